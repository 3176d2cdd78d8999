"""*Edit*: the requester reopens the form prefilled; saving it voids the approvals so far."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, modals
from bot.forms import open_form
from bot.services import from_context
from core.policies import default_role_name
from core.requests import EDITABLE_FIELDS


def edit(action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient,
         context: dict[str, Any]) -> None:
    """Only the requester, only until both sides approved; the external ID is not shown (empty keeps it)."""
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = services.requests.may_edit(request_id, body["user"]["id"])
    if not decision.ok or decision.request is None:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
        return
    request = decision.request
    initial = {f: getattr(request, f) for f in EDITABLE_FIELDS if f != "external_id"}
    if initial.get("role_name") == default_role_name(request.id):
        initial["role_name"] = None  # its own role: shown empty, as asked (the name is reserved for the bot)
    open_form(client, body["trigger_id"], body["user"]["id"],
              lambda: modals.request_modal(services.settings, initial, {"request_id": request.id}))

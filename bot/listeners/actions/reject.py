"""*Reject*: an approver is asked for the reason in a modal (submitted to views/reject_reason.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, modals
from bot.forms import open_form
from bot.services import from_context


def reject(action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient,
           context: dict[str, Any]) -> None:
    """Open the reason form for approvers; anyone else gets an ephemeral refusal."""
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = services.requests.may_reject(request_id, body["user"]["id"])
    if not decision.ok:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
        return
    open_form(client, body["trigger_id"], body["user"]["id"], lambda: modals.reject_modal(request_id))

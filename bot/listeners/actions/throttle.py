"""*Throttle*: an approver of either side gets the rate-limit form, prefilled with the task's current limits
(submitted to views/throttle_form.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, modals
from bot.forms import open_form
from bot.services import from_context
from core.control import Controls


def throttle(action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient,
             context: dict[str, Any]) -> None:
    """Open the form for who may (permissions.THROTTLE, while the task runs); anyone else gets an ephemeral refusal.
    The form shows the limits as the task's last DescribeMigrationDetail reported them (no cloud call here)."""
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = Controls(services.requests).may_throttle(request_id, body["user"]["id"])
    if not decision.ok or decision.request is None:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
        return
    current = decision.request.facts.rate_limit
    open_form(client, body["trigger_id"], body["user"]["id"],
              lambda: modals.throttle_modal(decision.request.id if decision.request else request_id, current))

"""*Check data*: an approver of either side asks for DTS's consistency check; the workflow engine runs it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context
from core.gate_decisions import GateDecisions


def check_data(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = GateDecisions(services.requests).check_data(request_id, body["user"]["id"])
    if decision.changed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))

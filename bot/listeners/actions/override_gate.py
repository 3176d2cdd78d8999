"""*Override gate*: an approver of a side whose half is missing is asked for the reason in a modal (submitted to
views/override_reason.py); anyone else gets an ephemeral refusal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, cutover_forms
from bot.forms import open_form
from bot.services import from_context
from core.gate_decisions import GateDecisions


def override_gate(action: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient,
                  context: dict[str, Any]) -> None:
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = GateDecisions(services.requests).may_override(request_id, body["user"]["id"])
    if not decision.ok:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
        return
    open_form(client, body["trigger_id"], body["user"]["id"], lambda: cutover_forms.override_modal(request_id))

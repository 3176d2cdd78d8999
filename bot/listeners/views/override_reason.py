"""The override form submitted: record the approver's half of the cutover gate's override with that reason."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot import blocks, modals
from bot.services import from_context
from core.gate_decisions import GateDecisions


def override_reason(body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    context: dict[str, Any]) -> None:
    """The reason is required by the form; a refusal (the gate opened meanwhile) is told ephemerally."""
    services = from_context(context)
    reason = modals.submitted_fields(view).get("reason") or ""
    user = body["user"]["id"]
    decision = GateDecisions(services.requests).override(modals.metadata(view).get("request_id", ""), user, reason)
    if decision.changed:
        services.wake()
    client.chat_postEphemeral(channel=services.settings.slack.channel, user=user, **blocks.reply(decision.message))

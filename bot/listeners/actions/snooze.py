"""*Snooze* in an alert's DM: no more alert DMs about that request for `alerts.snooze_hours` (core/alerts.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context
from core import alerts


def snooze(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    """Who may: permissions.SNOOZE (checked by core.alerts.snooze); the answer is ephemeral."""
    services = from_context(context)
    user = body["user"]["id"]
    decision = alerts.snooze(services.db, services.settings, action.get("value", ""), user,
                             services.requests._memberships(user))
    if decision.changed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))

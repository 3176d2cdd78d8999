"""*Undo close-out* (under the notice that the DTS task is isolated and kept): a target approver has the task
recovered (RecoverMigrateJob) while its retention lasts."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context


def undo_closeout(action: dict[str, Any], body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    """Who may is `permissions.PERMISSIONS` (checked by `MigrationRequests.undo_closeout`)."""
    services = from_context(context)
    decision = services.requests.undo_closeout(action.get("value", ""), body["user"]["id"])
    if decision.changed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))

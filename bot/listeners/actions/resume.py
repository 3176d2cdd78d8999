"""*Re-verify* (after a failed verification), *Complete* (a full + incremental task that caught up), *Retry*
(after a diagnosed failure) and *Retry task* (DTS stopped migrating: ResumeMigrateJob): a person tells the workflow
engine to go on; the button's action_id is the decision."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context
from core.requests import RESUME_FROM

DECISIONS = tuple(RESUME_FROM)
"""The action ids this listener serves: the decisions MigrationRequests.resume takes."""


def resume(action: dict[str, Any], body: dict[str, Any], respond: Respond,
           context: dict[str, Any]) -> None:
    """Who may is `permissions.PERMISSIONS` (checked by `MigrationRequests.resume`); the engine takes it from there."""
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = services.requests.resume(request_id, body["user"]["id"], action["action_id"])
    if decision.changed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))

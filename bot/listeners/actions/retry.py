"""*Retry* (after a diagnosed failure): run the failed step again once the cause is fixed."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context


def retry(action: dict[str, Any], body: dict[str, Any], respond: Respond,
          context: dict[str, Any]) -> None:
    """The requester or an approver; the workflow engine takes it from there."""
    services = from_context(context)
    request_id = action.get("value", "").partition(":")[0]
    decision = services.requests.resume(request_id, body["user"]["id"], "retry")
    if decision.changed:
        services.wake()
    respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))

"""*Cancel* (behind Slack's confirmation dialog, from `/dts-migrate cancel ID`): cancel the request."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context


def cancel(action: dict[str, Any], body: dict[str, Any], respond: Respond,
           context: dict[str, Any]) -> None:
    """The requester or an approver; the confirmation message is replaced by the outcome."""
    services = from_context(context)
    decision = services.requests.cancel(action.get("value", ""), body["user"]["id"])
    if decision.changed:
        services.wake()
    respond(replace_original=True, **blocks.reply(decision.message))

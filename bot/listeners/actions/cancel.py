"""*Cancel* (behind Slack's confirmation dialog; from `/dts-migrate cancel ID` or the request message)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond

from bot import blocks
from bot.services import from_context


def cancel(action: dict[str, Any], body: dict[str, Any], respond: Respond,
           context: dict[str, Any]) -> None:
    """Who may: core.permissions (CANCEL, or STOP once a DTS task may run). The value is `<id>` from the
    confirmation (replaced by the outcome) or `<id>:<revision>` from the request message (answered apart)."""
    services = from_context(context)
    request_id, _, revision = action.get("value", "").partition(":")
    decision = services.requests.cancel(request_id, body["user"]["id"])
    if decision.changed:
        services.wake()
    if revision:
        respond(response_type="ephemeral", replace_original=False, **blocks.reply(decision.message))
    else:
        respond(replace_original=True, **blocks.reply(decision.message))

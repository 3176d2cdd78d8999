"""The Throttle form submitted: out-of-range limits go back on their fields; valid ones take the request to
`throttling` (the step applies them with ModifyMigrateRateLimit, off the request path)."""

from __future__ import annotations

from typing import Any

from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient

from bot import blocks, modals
from bot.services import from_context
from bot.user_locale import known_locale
from core import i18n
from core.control import Controls, validate_limits


def check_throttle_form(args: Args) -> None:
    """The ack: each bad limit's error on its field (Slack keeps the form open), else the form closes."""
    with i18n.speaking(known_locale(args.context.user_id or "")):
        _wanted, errors = validate_limits(modals.submitted_fields(args.view or {}))
    if errors:
        args.ack(response_action="errors", errors=errors)
    else:
        args.ack()


def throttle_form(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """After a clean ack: record the change (audited, said in the thread); the answer is ephemeral."""
    services = from_context(context)
    wanted, errors = validate_limits(modals.submitted_fields(view))
    if errors:  # answered by check_throttle_form's errors
        return
    user = body["user"]["id"]
    decision = Controls(services.requests).throttle(modals.metadata(view).get("request_id", ""), user, wanted)
    if decision.changed:
        services.wake()
    client.chat_postEphemeral(channel=services.settings.slack.channel, user=user, **blocks.reply(decision.message))

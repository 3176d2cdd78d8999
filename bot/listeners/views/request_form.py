"""The request form submitted: errors back on their fields, else a new request (or the edit saved)."""

from __future__ import annotations

from typing import Any

from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient

from bot import blocks, modals
from bot.services import from_context
from bot.user_locale import known_locale
from core import i18n, validation


def check_request_form(args: Args) -> None:
    """The ack: validation errors go back on their fields (Slack keeps the form open), else the form closes."""
    settings = from_context(args.context).settings
    # the person's language as looked up when their form opened (an ack does not wait on users.info)
    with i18n.speaking(known_locale(args.context.user_id or "")):
        _, errors = validation.validate_request(modals.submitted_fields(args.view or {}), settings.accounts,
                                                settings.dts.experimental_engines)
    if errors:
        args.ack(response_action="errors", errors=errors)
    else:
        args.ack()


def request_form(body: dict[str, Any], view: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
    """After a clean ack: store the new request, or save the edit."""
    services = from_context(context)
    fields, _ = validation.validate_request(modals.submitted_fields(view), services.settings.accounts,
                                            services.settings.dts.experimental_engines)
    if fields is None:  # answered by check_request_form's errors
        return
    user = body["user"]["id"]
    request_id = modals.metadata(view).get("request_id")
    if request_id:
        decision = services.requests.edit(request_id, user, fields)
    else:
        decision = services.requests.open(fields, user, dedupe_key=f"view:{view['id']}")
    if decision.changed:
        services.wake()
    if not decision.ok:
        client.chat_postEphemeral(channel=services.settings.slack.channel, user=user,
                                  **blocks.reply(decision.message))

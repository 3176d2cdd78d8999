"""`/dts-migrate`: the form, an inline request, or help | list | status ID | cancel ID."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, modals
from bot.forms import open_form
from bot.services import Services, from_context
from bot.user_locale import form_language
from core import i18n, validation
from core.i18n import _

SUB_COMMANDS = ("help", "list", "status", "cancel")


def dts_migrate(command: dict[str, Any], respond: Respond, client: WebClient,
                context: dict[str, Any]) -> None:
    """After the ack: open the form, create the request, or answer the sub-command ephemerally."""
    services = from_context(context)
    text = (command.get("text") or "").strip()
    word, _space, argument = text.partition(" ")
    sub = word.lower()
    meant = validation.did_you_mean(sub, SUB_COMMANDS) if word and "=" not in word else None
    if meant is not None:  # a typo of a sub-command, not a request with fields
        respond(**blocks.reply(_("Unknown sub-command `{word}`: did you mean /dts-migrate {meant}? (see "
                                 "/dts-migrate help)", word=validation.shown(word), meant=meant)))
        return
    if sub not in SUB_COMMANDS:  # a new request: only in the channel, and not too often
        refusal = services.admission.refusal(command["user_id"], command.get("channel_id", ""))
        if refusal is not None:  # the bot's own text (a channel link, numbers): not escaped
            respond(**blocks.render([blocks.section(refusal)], refusal))
            return
    if not text:
        open_form(client, command["trigger_id"], command["user_id"], lambda: modals.request_modal(services.settings))
    elif sub == "help":
        respond(**blocks.help_message(services.settings.dts.experimental_engines))
    elif sub in ("list", "status", "cancel") and command.get("channel_id") != services.settings.slack.channel:
        # requests are the channel's business: a private channel's non-member sees nothing of them elsewhere
        elsewhere = _("Requests are followed in <#{channel}>: run /dts-migrate {sub} there (your own and those "
                      "waiting for you are also on dtsbot's Home tab).", channel=services.settings.slack.channel,
                      sub=sub)
        respond(**blocks.render([blocks.section(elsewhere)], elsewhere))  # the bot's own text: a channel link
    elif sub == "list":
        respond(**blocks.request_list(services.requests.open_requests()))
    elif sub in ("status", "cancel"):
        _about_one(services, sub, argument, respond)
    else:
        _inline(services, command, text, respond, client)


def _about_one(services: Services, sub: str, argument: str, respond: Respond) -> None:
    """`status ID` or `cancel ID`: exactly one request id, else the usage (never a misread id)."""
    words = argument.split()
    if len(words) != 1:
        respond(**blocks.reply(_("Usage: /dts-migrate {sub} ID (see /dts-migrate list)", sub=sub)))
        return
    request_id = words[0]
    request = services.requests.get(request_id)
    if request is None:
        respond(**blocks.reply(_("No request {id}; see /dts-migrate list.", id=validation.named(request_id))))
    elif sub == "status":
        respond(**services.request_status(request))
    else:
        respond(**blocks.cancel_confirm(request))


def _inline(services: Services, command: dict[str, Any], text: str, respond: Respond, client: WebClient) -> None:
    """All valid: create now. Only required fields missing: the form, prefilled (at once, in form_language).
    Anything invalid: say what, in the person's language."""
    fields, unreadable = validation.parse_inline(text)
    accounts, experimental = services.settings.accounts, services.settings.dts.experimental_engines
    with i18n.speaking(form_language(command["user_id"])):  # the form may open: no users.info before it
        request_fields, errors = validation.validate_request(fields, accounts, experimental)
    invalid = [field for field in errors if field not in validation.REQUIRED or (fields.get(field) or "").strip()]
    if request_fields is None and not unreadable and not invalid:
        open_form(client, command["trigger_id"], command["user_id"],
                  lambda: modals.request_modal(services.settings, modals.prefill(fields, services.settings)))
        return
    if request_fields is not None and not unreadable:
        decision = services.requests.open(request_fields, command["user_id"], dedupe_key=f"cmd:{command['trigger_id']}")
        if not decision.ok:
            respond(**blocks.reply(_("Nothing was created. {reason}", reason=decision.message)))
            return
        services.wake()
        respond(**blocks.reply(_("{created} It is posted for approval in the channel.", created=decision.message)))
        return
    _fields, errors = validation.validate_request(fields, accounts)  # again, in the person's language
    respond(**blocks.errors_reply(unreadable + [errors[field] for field in invalid]))

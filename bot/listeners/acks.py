"""Ack first, on the request's own thread; the work after it runs in the listener executor.

bot/app.py runs Bolt with `process_before_response=True`: a listener runs on the HTTP request's thread and
Slack gets its answer when the listener returns. `ack_first(app, work)` is such a listener: it acks, then hands
`work` — the database, audit, respond(), views.open — to Bolt's listener executor with the same Bolt arguments.
So an ack never queues behind earlier requests' work (it did when Bolt ran listeners, acks included, inside
the executor), and costs no copy of the request (Bolt's own lazy listeners deep-copy and re-parse it).
When the work fails on the database (locked, down), nothing was recorded (each operation is one transaction):
the user is told so through Slack's response_url, which works without the database, and it is counted.
When Slack cannot say who a user group or an e-mail address stands for (core.approvals.MembersUnknown), nothing
was decided or audited either: the user is told Slack did not answer and to try again.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.kwargs_injection.args import Args
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.services import SERVICES
from bot.user_locale import locale_for_user
from core import i18n
from core.approvals import MembersUnknown
from core.i18n import N_, _

log = logging.getLogger(__name__)
Acknowledge = Callable[[Args], None]
NOT_RECORDED = N_("Could not record this — nothing changed. Please try again in a minute.")
SLACK_DID_NOT_ANSWER = N_("Slack did not answer who may do this, so nothing changed. Please try again in a minute.")


def ack(args: Args) -> None:
    """The ack of a request whose answer does not depend on its content (every button and the command)."""
    args.ack()


def ack_first(app: App, work: Callable[..., None], acknowledge: Acknowledge = ack) -> Callable[[Args], None]:
    """A Bolt listener: `acknowledge(args)` now, then `work` with the Bolt arguments it names, in the executor."""
    names = list(inspect.signature(work).parameters)
    executor = app.listener_runner.listener_executor

    def run(arguments: dict[str, object], args: Args) -> None:
        # what the person reads, looked up when first rendered (a form chooses its own: user_locale.form_language);
        # channel texts use for_channel
        with i18n.speaking_lazily(lambda: _person_language(args)):
            try:
                work(**arguments)
            except SQLAlchemyError as error:
                log.error("%s not recorded: database error %s", work.__name__, type(error).__name__)
                _not_recorded(args)
            except MembersUnknown as error:
                log.warning("%s not decided: Slack could not resolve %s (%s)", work.__name__, error.entry,
                            error.reason)
                _tell(args, _(SLACK_DID_NOT_ANSWER))
            except Exception:
                log.exception("%s failed after its ack", work.__name__)

    def listener(args: Args) -> None:
        acknowledge(args)
        executor.submit(run, {name: getattr(args, name) for name in names}, args)

    listener.__name__ = work.__name__
    return listener


def _not_recorded(args: Args) -> None:
    """Tell the user (ephemeral, through response_url when there is one) and count it."""
    services = args.context.get(SERVICES)
    if services is not None:
        services.unrecorded()
    _tell(args, _(NOT_RECORDED))


def _tell(args: Args, text: str) -> None:
    """An ephemeral to the user who clicked or typed: through response_url when there is one, else in the
    channel (a click on the App Home has no response_url)."""
    services = args.context.get(SERVICES)
    try:
        if args.respond is not None and args.respond.response_url:
            args.respond(text=text, response_type="ephemeral", replace_original=False)
        elif services is not None and args.context.user_id:
            args.client.chat_postEphemeral(channel=services.settings.slack.channel, user=args.context.user_id,
                                           text=text)
    except (SlackApiError, OSError) as error:  # Slack unreachable too: the log line above is all that can be done
        log.warning("could not tell the user either: %s", type(error).__name__)


def _person_language(args: Args) -> str | None:
    """The language of the person who clicked or typed (their Slack locale), or None: the channel's."""
    user = args.context.user_id
    return locale_for_user(args.client, user) if user else None

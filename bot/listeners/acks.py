"""Ack first, on the request's own thread; the work after it runs in the listener executor.

bot/app.py runs Bolt with `process_before_response=True`: a listener runs on the HTTP request's thread and
Slack gets its answer when the listener returns. `ack_first(app, work)` is such a listener: it acks, then hands
`work` — the database, audit, respond(), views.open — to Bolt's listener executor with the same Bolt arguments.
So an ack never queues behind earlier requests' work (it did when Bolt ran listeners, acks included, inside
the executor), and costs no copy of the request (Bolt's own lazy listeners deep-copy and re-parse it).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.kwargs_injection.args import Args

log = logging.getLogger(__name__)
Acknowledge = Callable[[Args], None]


def ack(args: Args) -> None:
    """The ack of a request whose answer does not depend on its content (every button and the command)."""
    args.ack()


def ack_first(app: App, work: Callable[..., None], acknowledge: Acknowledge = ack) -> Callable[[Args], None]:
    """A Bolt listener: `acknowledge(args)` now, then `work` with the Bolt arguments it names, in the executor."""
    names = list(inspect.signature(work).parameters)
    executor = app.listener_runner.listener_executor

    def run(arguments: dict[str, object]) -> None:
        try:
            work(**arguments)
        except Exception:
            log.exception("%s failed after its ack", work.__name__)

    def listener(args: Args) -> None:
        acknowledge(args)
        executor.submit(run, {name: getattr(args, name) for name in names})

    listener.__name__ = work.__name__
    return listener

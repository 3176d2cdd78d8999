"""Ack first, on the request's own thread; the work after it runs as a Bolt lazy listener.

bot/app.py runs Bolt with `process_before_response=True`: a listener's ack function runs on the HTTP request's
thread and Slack gets its answer as soon as that function returns; the lazy listeners (the work: database,
audit, respond(), views.open) then run in the listener executor. So an ack never queues behind earlier
requests' work, which is what made acks slow in a burst when listeners acked from inside the executor.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

log = logging.getLogger(__name__)


def acknowledge(ack: Ack) -> None:
    """The ack of a request whose answer does not depend on its content (every button and the command)."""
    ack()


def logged(work: Callable[..., None]) -> Callable[..., None]:
    """`work` as a lazy listener that logs its traceback (Bolt logs only the message of a lazy failure)."""
    @functools.wraps(work)
    def run(**kwargs: Any) -> None:
        try:
            work(**kwargs)
        except Exception:
            log.exception("%s failed", work.__name__)

    return run

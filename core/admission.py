"""Who may open a new request, where and how often: only in `slack.channel`, at most
`slack.requests_per_minute_per_user` per person and `slack.requests_per_minute_per_channel` in all.

Each new request posts to the channel and pings both owners, so a burst from one person would flood the channel
and delay real notices behind Slack's per-channel rate. The windows are per replica (in memory): with N
replicas behind a load balancer the effective limits are at most N times the configured ones.
"""

from __future__ import annotations

import math
import threading

from core.config import Settings
from core.i18n import _
from core.ratelimit import SlidingWindow

WINDOW_SECONDS = 60.0


class RequestAdmission:
    """`refusal(user, channel)`: None when a new request may be opened now (and counts it), else the reply."""

    def __init__(self, settings: Settings) -> None:
        self.channel = settings.slack.channel
        self._per_user = SlidingWindow(settings.slack.requests_per_minute_per_user, WINDOW_SECONDS)
        self._per_channel = SlidingWindow(settings.slack.requests_per_minute_per_channel, WINDOW_SECONDS)
        self._lock = threading.Lock()

    def refusal(self, user: str, channel: str) -> str | None:
        if channel != self.channel:
            return _("Migration requests are made in <#{channel}>: run /dts-migrate there.", channel=self.channel)
        with self._lock:
            wait = self._per_user.retry_after(user)
            if wait:
                return _("You have opened {requests} in the last minute, the most allowed; try again in {seconds} s.",
                         requests=_requests(self._per_user.limit), seconds=math.ceil(wait))
            wait = self._per_channel.retry_after(self.channel)
            if wait:
                return _("The channel has had {requests} in the last minute, the most allowed; try again in "
                         "{seconds} s.", requests=_requests(self._per_channel.limit), seconds=math.ceil(wait))
            self._per_user.take(user)
            self._per_channel.take(self.channel)
        return None


def _requests(count: int) -> str:
    return _("1 new request") if count == 1 else _("{count} new requests", count=count)

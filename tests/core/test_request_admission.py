"""core.admission and its sliding window, on a fake clock: limits per person and per channel, the wait until
the next slot, and windows that forget people who stopped."""

from __future__ import annotations

from core.admission import RequestAdmission
from core.config import parse_settings
from core.ratelimit import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_allows_limit_events_then_says_when_the_oldest_expires():
    clock = Clock()
    window = SlidingWindow(2, 60, clock)
    for _ in range(2):
        assert window.retry_after("u") == 0
        window.take("u")
        clock.now += 10
    assert window.retry_after("u") == 40  # the first one leaves the window at 1060
    clock.now = 1060
    assert window.retry_after("u") == 0
    clock.now = 2000
    assert window.retry_after("u") == 0 and window._events == {}  # forgotten


def test_admission_counts_only_what_it_admits():
    settings = parse_settings({
        "slack": {"bot_token": "x", "signing_secret": "s", "channel": "C0DTSBOT01",
                  "requests_per_minute_per_user": 1, "requests_per_minute_per_channel": 2},
        "accounts": [{"name": "a", "uin": "1", "approvers": ["U0A"]}, {"name": "b", "uin": "2", "approvers": ["U0B"]}],
    }, environ={})
    admission = RequestAdmission(settings)
    assert admission.refusal("U1", "C0OTHER01") is not None  # elsewhere: refused, not counted
    assert admission.refusal("U1", "C0DTSBOT01") is None
    assert admission.refusal("U1", "C0DTSBOT01").startswith("You have opened 1 new request in")
    assert admission.refusal("U2", "C0DTSBOT01") is None
    assert admission.refusal("U3", "C0DTSBOT01").startswith("The channel has had 2 new requests")

"""Slack faults: the Web API answers 429 with Retry-After for a window, then 5xx for another, while requests run
through `dtsbot serve`. No notice is lost or duplicated: each request's thread in the emulator is exactly its
outbox's thread notices, once each and in queue order, and there is one request message per request.

Requests: `DTSBOT_SLACK_FAULT_REQUESTS` (default 6).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flow import Cluster

from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.faults import Fault
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import eventually
from tests.support.workspace import CHANNEL

REQUESTS = int(os.environ.get("DTSBOT_SLACK_FAULT_REQUESTS", "6"))
POSTING = ("chat.postMessage", "chat.update")


def outage_after(slack: SlackEmulator, faults: list[Fault], status: int, refusals: int = 3) -> None:
    """Keep the fault window open until Slack has refused `refusals` posting calls with `status`, then close it:
    the window lasts as long as the bot needs to run into it, however loaded the machine is."""
    eventually(lambda: sum(1 for c in slack.calls if c.method in POSTING and c.status == status) >= refusals,
               what=f"{refusals} posting calls refused with HTTP {status}", interval=0.2)
    for fault in faults:
        slack.faults.end(fault)


@pytest.fixture
def fast_posting(tencentcloud: TencentCloudSandbox, slack: SlackEmulator, tmp_path) -> Iterator[Cluster]:
    """One replica's cluster whose notifier may post 20 a second (so the windows, not the pace, decide)."""
    overrides = {"slack": {"posts_per_second": 20}}
    with Cluster(tencentcloud, slack, tmp_path, f"sqlite:///{tmp_path / 'dtsbot.db'}", overrides) as cluster:
        yield cluster


@pytest.mark.slow
def test_rate_limits_and_outages_delay_notices_but_never_lose_or_repeat_them(fast_posting: Cluster) -> None:
    cluster, slack = fast_posting, fast_posting.slack
    bot = cluster.replica("bot")
    request_ids = [cluster.open_request(bot, f"role_name=DTS-role-{n}", target=n) for n in range(REQUESTS)]
    for request_id in request_ids:
        cluster.request_message(request_id)
    rate_limits = [slack.faults.rate_limit(method, seconds=3600, retry_after=2) for method in POSTING]
    for request_id in request_ids:
        cluster.approve(bot, request_id)
    outage_after(slack, rate_limits, 429)
    outage_after(slack, [slack.faults.server_error(method, seconds=3600, status=503) for method in POSTING], 503)
    cluster.wait_running(request_ids, timeout=90)
    cluster.wait_delivered(timeout=60)
    cluster.stop()  # nothing moves on while the threads are compared

    refused = {call.status for call in slack.calls if call.method in POSTING and call.status != 200}
    assert refused == {429, 503}
    assert len(slack.messages(CHANNEL)) == len(request_ids)  # one request message each
    for request_id in request_ids:
        assert cluster.thread(request_id) == cluster.outbox_thread(request_id), request_id

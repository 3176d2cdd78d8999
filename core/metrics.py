"""Prometheus metrics of one running bot: requests by state, cloud and Slack calls, poll cycle duration.

Each Runtime owns its own registry (tests start several in one process); `/metrics` renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _RequestsByState(Collector):
    """Reads the request counts at scrape time, so every replica reports the shared database's truth; when the
    database does not answer (None), only `dtsbot_database_up 0`, so a scrape never waits on an outage."""

    def __init__(self, count_by_state: Callable[[], Mapping[str, int] | None]) -> None:
        self._count_by_state = count_by_state

    def collect(self) -> Iterator[Metric]:
        counts = self._count_by_state()
        yield GaugeMetricFamily("dtsbot_database_up", "1 when the database answered this scrape",
                                value=0 if counts is None else 1)
        if counts is None:
            return
        family = GaugeMetricFamily("dtsbot_requests", "Migration requests by state", labels=["state"])
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family


class Metrics:
    """The counters the bot updates; `render()` gives the Prometheus text format."""

    def __init__(self, count_by_state: Callable[[], Mapping[str, int] | None] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.cloud_calls = Counter(
            "dtsbot_cloud_calls", "Tencent Cloud API calls", ["action", "outcome"], registry=self.registry
        )
        self.slack_calls = Counter(
            "dtsbot_slack_calls", "Slack Web API calls", ["method", "outcome"], registry=self.registry
        )
        self.slack_rate_limited = Counter(
            "dtsbot_slack_rate_limited", "Slack answers with HTTP 429", registry=self.registry
        )
        self.unrecorded = Counter(
            "dtsbot_unrecorded", "Clicks and commands acked but not recorded (database error); the user was told",
            registry=self.registry,
        )
        self.poll_cycle = Histogram(
            "dtsbot_poll_cycle_seconds", "Duration of one scheduler poll cycle", registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        if count_by_state is not None:
            self.registry.register(_RequestsByState(count_by_state))

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)

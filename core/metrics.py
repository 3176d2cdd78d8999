"""Prometheus metrics of one running bot: requests by state and how long they have been in it, the outbox
backlog, cloud and Slack calls, poll cycle duration, the scheduler's last tick.

Each Runtime owns its own registry (tests start several in one process); `/metrics` renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage.gauges import Gauges

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _DatabaseGauges(Collector):
    """Reads the shared database at scrape time, so every replica reports its truth; when the database does not
    answer (None), only `dtsbot_database_up 0`, so a scrape never waits on an outage."""

    def __init__(self, read: Callable[[], Gauges | None]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        gauges = self._read()
        yield GaugeMetricFamily("dtsbot_database_up", "1 when the database answered this scrape",
                                value=0 if gauges is None else 1)
        if gauges is None:
            return
        yield _by_state("dtsbot_requests", "Migration requests by state", gauges.requests)
        yield _by_state("dtsbot_request_state_age_seconds",
                        "Seconds since the longest-waiting request of each state entered it", gauges.oldest_in_state)
        yield GaugeMetricFamily("dtsbot_outbox_unsent", "Notices not yet delivered to Slack",
                                value=gauges.outbox_unsent)
        yield GaugeMetricFamily("dtsbot_outbox_oldest_unsent_age_seconds",
                                "Age of the oldest notice not yet delivered to Slack (0: none)",
                                value=gauges.outbox_oldest_seconds)


def _by_state(name: str, documentation: str, values: Mapping[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state, value in sorted(values.items()):
        family.add_metric([state], value)
    return family


class Metrics:
    """The counters the bot updates; `render()` gives the Prometheus text format."""

    def __init__(self, read_database: Callable[[], Gauges | None] | None = None) -> None:
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
        self.last_tick = Gauge(
            "dtsbot_scheduler_last_tick_timestamp_seconds",
            "Unix time at which this replica's workflow tick last finished", registry=self.registry,
        )
        if read_database is not None:
            self.registry.register(_DatabaseGauges(read_database))

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)

"""core.metrics: the exposition names the issue's series with their labels."""

from core.metrics import Metrics
from storage.gauges import Gauges


def reading(requests: dict[str, int]) -> Gauges:
    return Gauges(requests, {state: 60.0 for state in requests}, outbox_unsent=2, outbox_oldest_seconds=9.5)


def test_render_has_every_series():
    metrics = Metrics(read_database=lambda: reading({"running": 3, "requested": 1}))
    metrics.cloud_calls.labels("CreateRole", "ok").inc()
    metrics.cloud_calls.labels("AssumeRole", "InternalError.GetRoleError").inc(2)
    metrics.slack_calls.labels("chat.postMessage", "ok").inc()
    metrics.slack_rate_limited.inc()
    metrics.poll_cycle.observe(0.2)
    metrics.last_tick.set(1_700_000_000)
    text = metrics.render().decode()
    assert 'dtsbot_requests{state="running"} 3.0' in text
    assert 'dtsbot_cloud_calls_total{action="AssumeRole",outcome="InternalError.GetRoleError"} 2.0' in text
    assert 'dtsbot_slack_calls_total{method="chat.postMessage",outcome="ok"} 1.0' in text
    assert "dtsbot_slack_rate_limited_total 1.0" in text
    assert "dtsbot_poll_cycle_seconds_count 1.0" in text
    assert 'dtsbot_request_state_age_seconds{state="running"} 60.0' in text
    assert "dtsbot_outbox_unsent 2.0" in text and "dtsbot_outbox_oldest_unsent_age_seconds 9.5" in text
    assert "dtsbot_scheduler_last_tick_timestamp_seconds 1.7e+09" in text


def test_registries_are_independent():
    first, second = Metrics(), Metrics()
    first.slack_rate_limited.inc()
    assert "dtsbot_slack_rate_limited_total 0.0" in second.render().decode()


def test_a_database_that_does_not_answer_is_database_up_0_without_request_counts():
    metrics = Metrics(read_database=lambda: None)
    metrics.unrecorded.inc()
    text = metrics.render().decode()
    assert "dtsbot_database_up 0.0" in text
    assert "dtsbot_requests{" not in text
    assert "dtsbot_unrecorded_total 1.0" in text

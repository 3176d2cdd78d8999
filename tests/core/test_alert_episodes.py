"""The alerts' decisions on an injected clock, two monitors sharing one database as two replicas do: the lag read
(absent or -1 is unknown, never 0), the full load's progress, one episode however many replicas and restarts see
it, the DMs' sides, a pause that times no lag, and a snooze."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from engineflow import FIELDS, fast_settings
from sqlmodel import col, select

from core import alerts
from core.alerts import AlertMonitor, full_load_percent, lag_seconds
from core.config import AlertSettings
from storage.db import session_scope
from storage.models import AlertEpisode, AuditEntry, MigrationRequest, OutboxMessage

RID, JOB = "mr-alert01", "dts-alert001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings():
    return fast_settings().model_copy(update={"alerts": AlertSettings(lag_seconds=60, lag_minutes=10,
                                                                      stall_minutes=30)})


@pytest.fixture
def seeded(engine):
    with session_scope(engine) as session:
        session.add(MigrationRequest(id=RID, requester="U0REQUESTER", **{**FIELDS, "migrate_type": "fullAndIncrement"},
                                     state="running", job_id=JOB))
    return engine


def item(status: str = "running", lag: int | None = 0, percents: tuple[int, ...] = (100, 100, 0)) -> dict:
    info = {"StepInfo": [{"Percent": p} for p in percents]}
    if lag is not None:
        info["SecondsBehindMaster"] = lag
    return {"JobId": JOB, "Status": status, "StepInfo": info}


ROW = SimpleNamespace(id=RID, job_id=JOB, migrate_type="fullAndIncrement")


def outbox(engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.exec(select(OutboxMessage.key).order_by(col(OutboxMessage.id))).all())


def test_the_lag_is_read_from_step_info_and_absent_or_minus_one_is_unknown() -> None:
    assert lag_seconds({"SecondsBehindMaster": 42}) == 42
    assert lag_seconds({"SecondsBehindMaster": 0}) == 0
    assert lag_seconds({"SecondsBehindMaster": -1}) is None
    assert lag_seconds({}) is None and lag_seconds(None) is None


def test_the_full_loads_progress_leaves_out_the_incremental_step() -> None:
    assert full_load_percent({"StepInfo": [{"Percent": 40}, {"Percent": 0}, {"Percent": 0}]}, "fullAndIncrement") == 40
    assert full_load_percent({"StepInfo": [{"Percent": 100}, {"Percent": 100}, {"Percent": 0}]},
                             "fullAndIncrement") is None  # over: the incremental sync does not count
    assert full_load_percent({"StepInfo": [{"Percent": 100}, {"Percent": 60}]}, "full") == 160
    assert full_load_percent({}, "full") is None


def test_a_high_lag_is_one_episode_for_two_replicas_and_a_restart_then_back_to_normal(seeded, settings) -> None:
    clock = Clock()
    one, two = AlertMonitor(seeded, settings, clock), AlertMonitor(seeded, settings, clock)
    for minute in range(11):  # 61 s behind for ten minutes
        clock.now += 60 if minute else 0
        for replica in (one, two):
            replica.observe([ROW], {JOB: item(lag=61)})
        assert (outbox(seeded) == []) == (minute < 10), minute
    keys = outbox(seeded)
    assert keys == [f"{RID}:alert:1", f"{RID}:alert:1:dm"]
    restarted = AlertMonitor(seeded, settings, clock)  # no memory of how long: the open episode stands
    for _ in range(20):
        clock.now += 60
        for replica in (two, restarted):
            replica.observe([ROW], {JOB: item(lag=None)})  # unknown: neither opens nor clears
            replica.observe([ROW], {JOB: item(lag=90)})
    assert outbox(seeded) == keys
    for replica in (restarted, two, one):
        replica.observe([ROW], {JOB: item(lag=3)})
    assert outbox(seeded) == [*keys, f"{RID}:alert:1:cleared", f"{RID}:alert:1:cleared:dm"]
    with session_scope(seeded) as session:
        assert session.exec(select(AlertEpisode.open_key, AlertEpisode.closed_at)).one()[0] is None
        dm = session.exec(select(OutboxMessage).where(OutboxMessage.key == f"{RID}:alert:1:dm")).one()
        assert dm.payload == {"event": "alert", "kind": "lag", "seen": "61", "sides": ["target"]}
        audit = session.exec(select(AuditEntry.step, AuditEntry.action, AuditEntry.outcome)
                             .where(AuditEntry.request_id == RID)).all()
    assert audit == [("alert", "lag", "opened"), ("alert", "lag", "cleared")]


def test_a_full_load_that_does_not_move_is_a_stall_and_moving_again_clears_it(seeded, settings) -> None:
    clock = Clock()
    monitor = AlertMonitor(seeded, settings, clock)
    monitor.observe([ROW], {JOB: item(percents=(40, 0, 0))})
    clock.now += 29 * 60
    monitor.observe([ROW], {JOB: item(percents=(40, 0, 0))})
    assert outbox(seeded) == []
    monitor.observe([ROW], {JOB: item(status="manualPaused", percents=(40, 0, 0), lag=5000)})  # paused: no alert
    clock.now += 60
    monitor.observe([ROW], {JOB: item(percents=(40, 0, 0))})
    clock.now += 30 * 60
    monitor.observe([ROW], {JOB: item(percents=(40, 0, 0))})
    assert outbox(seeded) == [f"{RID}:alert:1", f"{RID}:alert:1:dm"]
    monitor.observe([ROW], {JOB: item(percents=(41, 0, 0))})
    assert outbox(seeded)[-2:] == [f"{RID}:alert:1:cleared", f"{RID}:alert:1:cleared:dm"]


def test_an_error_state_alerts_at_once_and_a_snooze_keeps_only_the_thread(seeded, settings) -> None:
    clock = Clock()
    monitor = AlertMonitor(seeded, settings, clock)
    decision = alerts.snooze(seeded, settings, RID, "U0TGTOWNER", lambda _entry: (), now=clock.now)
    assert decision.ok and "snoozed for 4 h" in decision.message
    refused = alerts.snooze(seeded, settings, RID, "U0STRANGER", lambda _entry: (), now=clock.now)
    assert not refused.ok and "Only an approver" in refused.message
    monitor.observe([ROW], {JOB: item(status="error")})
    monitor.observe([ROW], {JOB: item(status="canceled")})  # stopped is not back to normal
    monitor.observe([ROW], {JOB: item(status="running")})
    assert [k for k in outbox(seeded) if ":alert:" in k] == []  # the thread hears it from the workflow; DMs snoozed
    with session_scope(seeded) as session:
        audit = session.exec(select(AuditEntry.action, AuditEntry.outcome).where(AuditEntry.step == "alert")).all()
    assert audit == [("snooze", "refused"), ("snooze", "ok"), ("error", "opened"), ("error", "cleared")] or \
        sorted(audit) == sorted([("snooze", "ok"), ("snooze", "refused"), ("error", "opened"), ("error", "cleared")])


def test_an_episode_of_a_request_that_ended_is_closed_without_a_notice(seeded, settings) -> None:
    """Cancelled while DTS reported an error: the request is no longer listed, so nothing would ever clear its
    episode; the next listing closes it, and a new request on the same id could alert again."""
    clock = Clock()
    monitor = AlertMonitor(seeded, settings, clock)
    monitor.observe([ROW], {JOB: item(status="error")})
    with session_scope(seeded) as session:
        session.get(MigrationRequest, RID).state = "cancelled"
    queued = outbox(seeded)
    monitor.observe([], {})
    with session_scope(seeded) as session:
        [episode] = session.exec(select(AlertEpisode)).all()
        assert episode.open_key is None and episode.closed_at is not None
    assert outbox(seeded) == queued  # no "back to normal" for a request that ended

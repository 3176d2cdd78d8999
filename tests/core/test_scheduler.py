"""The engine under a real APScheduler: one replica end to end, two replicas sharing 50 requests, and a replica
that dies mid-way while the other finishes its work."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from engineflow import ScriptedSteps, add_approved, events, load

from core.scheduler import Scheduler
from sandbox.waiting import budget, eventually
from storage import outbox, repository
from storage.db import session_scope

HAPPY_EVENTS = ["approved", "role_created", "preflight_passed", "task_bought", "configured",
                "verification_passed", "running", "task_succeeded", "succeeded"]


class Crash(BaseException):
    """The replica is gone: nothing after this point runs or is recorded."""


def delivered(db, owner: str) -> Callable[[], int]:
    """A stand-in for the notifier's flush: marks due notices sent, in order (no Slack in these tests)."""

    def flush() -> int:
        with session_scope(db) as session:
            claimed = outbox.claim_pending(session, owner, 10)
            for message in claimed:
                outbox.mark_sent(session, message.id, owner)
        return len(claimed)

    return flush


def pending(db) -> int:
    with session_scope(db) as session:
        return outbox.pending_count(session)


def succeeded(db) -> int:
    with session_scope(db) as session:
        return len(repository.list_requests(session, ["succeeded"], limit=1000))


def make_scheduler(engine, settings, steps, owner, **options) -> Scheduler:
    return Scheduler(settings, engine, steps, None, delivered(engine, owner), owner, watched_fallback=0.05,
                     **options)


def test_one_replica_drives_a_request_to_succeeded_and_delivers_its_notices(engine, settings, steps):
    scheduler = make_scheduler(engine, settings, steps.table, "a")
    scheduler.start()
    try:
        assert scheduler.alive()
        [rid] = add_approved(engine)
        scheduler.kick(rid)
        eventually(lambda: load(engine, rid).state == "succeeded", 30, "succeeded")
        eventually(lambda: pending(engine) == 0, 30, "delivery")
        with session_scope(engine) as session:
            sent = outbox.sent(session, rid)
        assert [m.payload["event"] for m in sent if m.kind == "thread"] == HAPPY_EVENTS
        # each notice carries what the request message shows as of its change: the notifier brings the message
        # up to it when it posts it (a separate refresh would be redundant, so none is queued)
        assert [m.payload["snapshot"]["state"] for m in sent if m.kind == "thread"][-1] == "succeeded"
        assert all("snapshot" in m.payload for m in sent if m.kind == "thread")
        assert scheduler.last_tick is not None
    finally:
        scheduler.shutdown()
    assert not scheduler.alive()


def test_kick_runs_a_request_that_was_scheduled_for_later(engine, settings, steps):
    slow = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(update={"poll_seconds": 3600})})
    scheduler = make_scheduler(engine, slow, steps.table, "a")
    scheduler.start()
    try:
        eventually(lambda: scheduler.last_tick is not None, 30, "first tick")
        [rid] = add_approved(engine)
        scheduler.kick(rid)  # the hour-long poll would not run it within the wait's budget: the kick did
        eventually(lambda: load(engine, rid).state == "succeeded", 30, "succeeded after a kick")
    finally:
        scheduler.shutdown()


def test_a_kick_that_lands_while_a_tick_is_finishing_is_not_lost(engine, settings, steps):
    """The tick's last act (asking when the next request is due) is held until a kick has landed: the wake must
    run another tick, not be skipped because the finishing one still counts as running (poll: an hour)."""
    slow = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(update={"poll_seconds": 3600})})
    scheduler = make_scheduler(engine, slow, steps.table, "a")
    finishing, kicked = threading.Event(), threading.Event()
    next_due = scheduler.engine.next_due

    def held_next_due():
        if not finishing.is_set():
            finishing.set()
            kicked.wait(budget(30))
        return next_due()

    scheduler.engine.next_due = held_next_due
    scheduler.start()
    try:
        assert finishing.wait(budget(30)), "the first tick did not finish"
        [rid] = add_approved(engine)
        scheduler.kick(rid)
        kicked.set()
        eventually(lambda: load(engine, rid).state == "succeeded", 30, "succeeded after a kick during a tick's end")
    finally:
        scheduler.shutdown()


@pytest.mark.slow
def test_two_replicas_share_fifty_requests_each_step_and_notice_once(engine, settings):
    steps = ScriptedSteps()
    ids = add_approved(engine, 50)
    replicas = [make_scheduler(engine, settings, steps.table, owner) for owner in ("a", "b")]
    for replica in replicas:
        replica.start()
    try:
        eventually(lambda: succeeded(engine) == 50, 60, "all 50 succeeded")
    finally:
        for replica in replicas:
            replica.shutdown()
    for rid in ids:
        assert events(engine, rid) == HAPPY_EVENTS
    assert {count for (_, state), count in steps.runs.items() if state != "running"} == {1}
    assert {count for (_, state), count in steps.runs.items() if state == "running"} == {2}
    assert set(steps.owners) == {"a", "b"}


@pytest.mark.slow
def test_a_replica_that_dies_midway_loses_its_leases_and_the_other_finishes(engine, settings):
    steps = ScriptedSteps()
    # A live replica renews its leases every third of a lease: short enough for the test, long enough that a
    # loaded machine's pause does not let the other replica take over a step that is still running.
    lease = budget(3.0)
    short = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(update={"lease_seconds": lease})})
    dead, buried = threading.Event(), threading.Event()

    def dying(step):
        def run(request, clients):
            if dead.is_set():
                buried.wait(30)
                raise Crash()
            return step(request, clients)

        return run

    ids = add_approved(engine, 50)
    a = make_scheduler(engine, short, {state: dying(step) for state, step in steps.table.items()}, "a",
                       max_step_seconds=lease)  # its hung steps stop holding their leases after one lease
    b = make_scheduler(engine, short, steps.table, "b")
    a.start()
    b.start()
    try:
        eventually(lambda: sum(steps.runs.values()) >= 100, 30, "work under way")
        dead.set()
        eventually(lambda: succeeded(engine) == 50, 60, "b finishing all 50")
    finally:
        buried.set()
        a.shutdown(wait=False)
        b.shutdown()
    for rid in ids:
        assert events(engine, rid) == HAPPY_EVENTS
    assert {count for (_, state), count in steps.runs.items() if state != "running"} == {1}
    assert steps.owners["a"] > 0 and steps.owners["b"] > 0

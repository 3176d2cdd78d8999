"""WorkflowEngine.tick with scripted steps: transitions, facts, audit, notices, waits, retries and failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from engineflow import FIELDS, MovedClock, ScriptedSteps, add_approved, events, load, notices, uses_role
from sqlalchemy.engine import Engine
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.config import Settings
from core.engine import WorkflowEngine
from core.requests import MigrationRequests
from core.retry import Backoff
from core.steps import Diagnosis, Outcome, Owned, StepResult
from sandbox.waiting import eventually
from storage import outbox, ownership, repository
from storage.db import session_scope
from storage.models import utcnow

FAST_RETRY = Backoff(base=0.01, cap=0.05, max_attempts=3, jitter=0.5)


@pytest.fixture
def make_engine(engine: Engine, settings: Settings) -> Iterator:
    made: list[WorkflowEngine] = []

    def make(steps: ScriptedSteps, owner: str = "a", **options) -> WorkflowEngine:
        workflow = WorkflowEngine(engine, settings, steps.table, None, owner,
                                  retry=options.pop("retry", FAST_RETRY), **options)
        made.append(workflow)
        return workflow

    yield make
    for workflow in made:
        workflow.close()


def drive(workflow: WorkflowEngine, db: Engine, request_id: str, until: str, seconds: float = 30.0) -> None:
    """Tick the engine until the request is in `until`."""
    def arrived() -> bool:
        if load(db, request_id).state == until:
            return True
        workflow.tick()
        return False

    eventually(arrived, seconds, f"{request_id} to reach {until}", interval=0.01)


def test_approved_request_runs_every_step_once_to_succeeded(engine, make_engine, steps):
    [rid] = add_approved(engine)
    drive(make_engine(steps), engine, rid, "succeeded")

    request = load(engine, rid)
    assert request.progress == 100 and request.job_id == f"dts-{rid}"
    assert request.facts.lag_seconds == 3 and request.lease_owner is None and request.attempts == 0
    ran = {state for (r, state) in steps.runs if r == rid}
    assert "granting_subaccount" not in ran and "completing" not in ran  # root executor, full migration
    assert all(count == 1 for (r, state), count in steps.runs.items() if state != "running")
    assert steps.runs[(rid, "running")] == 2
    assert events(engine, rid) == [
        "approved", "role_created", "preflight_passed", "task_bought", "configured", "verification_passed",
        "running", "task_succeeded", "succeeded"]
    with session_scope(engine) as session:
        trail = [(e.step, e.outcome) for e in repository.audit_trail(session, rid)]
    assert ("running", "wait") in trail and trail[-1] == ("revoking_access", "done")


def test_subaccount_executor_goes_through_the_grant(engine, make_engine, steps):
    [rid] = add_approved(engine, executor="100000000021")
    drive(make_engine(steps), engine, rid, "succeeded")
    assert steps.runs[(rid, "granting_subaccount")] == 1
    assert events(engine, rid)[1:3] == ["role_created", "subaccount_granted"]


def test_wait_releases_until_retry_after(engine, make_engine):
    steps = ScriptedSteps(preflight=lambda r, n: StepResult(Outcome.WAIT, retry_after=30))
    [rid] = add_approved(engine)
    workflow = make_engine(steps)
    drive(workflow, engine, rid, "preflight")
    before = utcnow()
    while steps.runs[(rid, "preflight")] == 0:
        workflow.tick()
    request = load(engine, rid)
    assert request.state == "preflight" and request.lease_owner is None
    assert before + timedelta(seconds=29) < request.next_run_at < utcnow() + timedelta(seconds=31)
    assert workflow.tick() == 0 and steps.runs[(rid, "preflight")] == 1


def test_transient_error_backs_off_then_succeeds(engine, make_engine):
    def limited(request, run):
        if run <= 2:
            raise TencentCloudSDKException("RequestLimitExceeded", "too many calls", f"req-{run}")
        return StepResult(Outcome.DONE)

    steps = ScriptedSteps(preflight=limited)
    [rid] = add_approved(engine)
    workflow = make_engine(steps, retry=Backoff(base=0.2, cap=1.0, max_attempts=5, jitter=0.5))
    drive(workflow, engine, rid, "preflight")
    while steps.runs[(rid, "preflight")] == 0:
        workflow.tick()
    first = load(engine, rid)
    assert first.state == "preflight" and first.attempts == 1
    assert "RequestLimitExceeded" in first.last_error
    assert utcnow() + timedelta(seconds=0.05) < first.next_run_at < utcnow() + timedelta(seconds=0.25)
    assert workflow.tick() == 0  # not due yet: backing off
    drive(workflow, engine, rid, "creating_task")
    assert steps.runs[(rid, "preflight")] == 3 and load(engine, rid).attempts == 0
    with session_scope(engine) as session:
        retries = [e for e in repository.audit_trail(session, rid) if e.outcome == "retry"]
    assert [e.cloud_request_id for e in retries] == ["req-1", "req-2"]


def test_transient_error_fails_after_max_attempts(engine, make_engine):
    def down(request, run):
        raise TencentCloudSDKException("InternalError", "backend unavailable", f"req-{run}")

    [rid] = add_approved(engine)
    steps = ScriptedSteps(preflight=down)
    drive(make_engine(steps), engine, rid, "failed")
    request = load(engine, rid)
    assert steps.runs[(rid, "preflight")] == FAST_RETRY.max_attempts
    assert request.failed_step == "preflight" and "after 3 attempts" in request.last_error
    assert "RequestId req-3" in request.last_error
    assert notices(engine, rid)[-1].payload["actions"][0]["action_id"] == "retry"


def test_failed_preflight_then_retry_repairs_access_from_the_source_role(engine, make_engine):
    diagnosis = Diagnosis("InternalError.GetRoleError", "preflight: role not exist", "wrong role name",
                          "check the role name", "req-42")

    def role_missing_once(request, run):
        if run == 1:
            return StepResult(Outcome.FAILED, diagnosis=diagnosis)
        return StepResult(Outcome.DONE)

    steps = ScriptedSteps(preflight=role_missing_once)
    [rid] = add_approved(engine)
    workflow = make_engine(steps)
    drive(workflow, engine, rid, "failed")
    request = load(engine, rid)
    assert request.failed_step == "preflight"
    assert request.last_error == "preflight: role not exist; wrong role name; fix: check the role name; RequestId req-42"
    failure = notices(engine, rid)[-1].payload
    assert failure["event"] == "failed" and "check the role name" in failure["text"] and "req-42" in failure["text"]
    assert failure["actions"] == [{"action_id": "retry", "text": "Retry", "value": rid}]

    with session_scope(engine) as session:
        workflow.request_retry(session, repository.get_request(session, rid), "U0REQUESTER")
    assert load(engine, rid).state == "authorizing_source" and load(engine, rid).last_error is None
    drive(workflow, engine, rid, "succeeded")
    assert steps.runs[(rid, "authorizing_source")] == 2 and steps.runs[(rid, "preflight")] == 2


def test_retry_after_the_task_was_bought_resumes_the_failed_step(engine, make_engine):
    diagnosis = Diagnosis("FailedOperation.StatusInConflict", "starting: conflict", "busy", "wait", "req-43")
    steps = ScriptedSteps(starting=lambda r, n: StepResult(Outcome.FAILED, diagnosis=diagnosis) if n == 1
                          else StepResult(Outcome.DONE))
    [rid] = add_approved(engine)
    workflow = make_engine(steps)
    drive(workflow, engine, rid, "failed")
    with session_scope(engine) as session:
        workflow.request_retry(session, repository.get_request(session, rid), "U0REQUESTER")
    assert load(engine, rid).state == "starting"
    drive(workflow, engine, rid, "succeeded")
    assert steps.runs[(rid, "creating_task")] == 1 and steps.runs[(rid, "starting")] == 2


def test_check_failed_then_reverify_reaches_starting(engine, make_engine):
    checks = [{"step": "BinlogParamCheck", "message": "binlog_format is STATEMENT", "fix": "set binlog_format=ROW"}]

    def verify(request, run):
        if run == 1:
            return StepResult(Outcome.CHECK_FAILED, facts={"failed_checks": checks})
        return StepResult(Outcome.DONE)

    steps = ScriptedSteps(verifying=verify)
    [rid] = add_approved(engine)
    workflow = make_engine(steps)
    drive(workflow, engine, rid, "verify_failed")
    failed = notices(engine, rid)[-1].payload
    assert failed["event"] == "verification_failed"
    assert "BinlogParamCheck" in failed["text"] and "set binlog_format=ROW" in failed["text"]
    assert failed["actions"][0]["action_id"] == "reverify"
    assert workflow.tick() == 0  # verify_failed waits for a person

    kicked: list[str] = []
    workflow.wakeup = lambda: kicked.append("wake")
    with session_scope(engine) as session:
        workflow.request_reverify(session, repository.get_request(session, rid), "U0TGTOWNER")
    assert kicked == ["wake"]  # after the commit
    drive(workflow, engine, rid, "starting")
    assert events(engine, rid)[-2:] == ["verification_failed", "verification_passed"]
    keys = [m.key for m in notices(engine, rid)]
    assert f"{rid}:verifying:verification_passed:1" in keys


def test_crash_after_a_side_effect_reruns_the_step_and_notices_once(engine, settings):
    class Crash(BaseException):
        """The process dies here: nothing after the cloud call is recorded."""

    roles: dict[str, int] = {}

    def authorize(request, run):
        roles.setdefault(request.id, 0)
        if roles[request.id] == 0:
            roles[request.id] += 1  # the role is created in the cloud ...
        if run == 1:
            raise Crash()  # ... and the bot dies before recording it
        return StepResult(Outcome.DONE, notice=f"Role DTS-role created ({roles[request.id]})")

    steps = ScriptedSteps(authorizing_source=authorize)
    [rid] = add_approved(engine)
    dying = WorkflowEngine(engine, settings, steps.table, None, "dying", retry=FAST_RETRY)
    drive(dying, engine, rid, "authorizing_source")
    with pytest.raises(Crash):
        dying.tick()
    dying.close()
    assert load(engine, rid).lease_owner == "dying"

    clock = MovedClock()
    survivor = WorkflowEngine(engine, settings, steps.table, None, "survivor", retry=FAST_RETRY, clock=clock)
    assert survivor.tick() == 0  # the lease is still live
    clock.move(settings.scheduler.lease_seconds + 1)  # ... until the dead replica's lease runs out
    drive(survivor, engine, rid, "succeeded")
    survivor.close()
    assert roles == {rid: 1} and steps.runs[(rid, "authorizing_source")] == 2
    assert events(engine, rid).count("role_created") == 1
    assert notices(engine, rid)[1].payload["text"] == "Role DTS-role created (1)"


def test_crash_while_recording_leaves_nothing_half_written(engine, settings, monkeypatch):
    steps = ScriptedSteps()
    [rid] = add_approved(engine)
    clock = MovedClock()
    workflow = WorkflowEngine(engine, settings, steps.table, None, "a", retry=FAST_RETRY, clock=clock)
    drive(workflow, engine, rid, "preflight")
    real_refresh = outbox.request_refresh

    def refresh_then_die(session, request_id):
        monkeypatch.setattr(outbox, "request_refresh", real_refresh)
        real_refresh(session, request_id)
        raise OSError("database connection lost")

    monkeypatch.setattr(outbox, "request_refresh", refresh_then_die)
    workflow.tick()  # preflight ran; recording its outcome failed and rolled back
    request = load(engine, rid)
    assert request.state == "preflight" and request.lease_owner == "a"
    assert events(engine, rid).count("preflight_passed") == 0
    clock.move(settings.scheduler.lease_seconds + 1)  # its own lease runs out: the step is run again
    drive(workflow, engine, rid, "succeeded")
    workflow.close()
    assert steps.runs[(rid, "preflight")] == 2 and events(engine, rid).count("preflight_passed") == 1


def test_a_cancel_while_the_step_runs_wins(engine, make_engine):
    def cancelled_meanwhile(request, run):
        with session_scope(engine) as session:
            repository.update_request(session, repository.get_request(session, request.id), state="cancelling")
        return StepResult(Outcome.DONE)

    steps = ScriptedSteps(preflight=cancelled_meanwhile)
    [rid] = add_approved(engine)
    drive(make_engine(steps), engine, rid, "cancelled")
    assert "preflight_passed" not in events(engine, rid)
    assert steps.runs[(rid, "cancelling")] == 1 and events(engine, rid)[-1] == "cancelled"
    assert load(engine, rid).lease_owner is None


def test_access_shared_with_an_unfinished_request_is_kept_until_the_last_one_ends(engine, make_engine):
    """Two requests through the same source role: the first to finish must not cut the other's access."""
    holding = {"on": True}
    steps = ScriptedSteps(running=lambda r, n: StepResult(Outcome.WAIT, retry_after=0.01) if r.id == second and
                          holding["on"] else StepResult(Outcome.DONE, facts={"progress": 100}))
    first, second = add_approved(engine, count=2)
    workflow = make_engine(steps)
    drive(workflow, engine, first, "succeeded")
    assert steps.runs[(first, "revoking_access")] == 0
    assert any("still uses role `DTS-role`" in n.payload["text"] for n in notices(engine, first))
    holding["on"] = False
    drive(workflow, engine, second, "succeeded")
    assert steps.runs[(second, "revoking_access")] == 1


def _waiting_on_a_release(engine: Engine, request_id: str, name: str, other: str) -> bool:
    return any(f"`{name}` is being deleted by request {other}" in n.payload["text"]
               for n in notices(engine, request_id))


def test_a_request_does_not_take_up_a_role_that_its_last_user_is_deleting(engine, make_engine):
    """The check-then-act race of a shared role: the last user found no other user and deletes the role; a request
    reaching its authorize step meanwhile must not use it (its DTS task would lose its access). It waits without
    running the step, and runs it once the role is gone (then making its own)."""
    seen: dict[str, str] = {}

    def revoking(request, run):
        if request.id == first and run == 1:  # another replica runs a new request while this one deletes
            [seen["second"]] = add_approved(engine)
            eventually(lambda: (other_replica.tick(),
                                _waiting_on_a_release(engine, seen["second"], "DTS-role", first))[1],
                       30, "the new request to wait", interval=0.01)
            seen["state"] = load(engine, seen["second"]).state
            seen["ran"] = str(steps.runs[(seen["second"], "authorizing_source")])
        return StepResult(Outcome.DONE, released=(Owned("created", "role", request.source_uin, request.role_name),))

    steps = ScriptedSteps(revoking_access=revoking)
    workflow, other_replica = make_engine(steps), make_engine(steps, owner="b")
    [first] = add_approved(engine)
    drive(workflow, engine, first, "succeeded")
    second = seen["second"]
    assert (seen["state"], seen["ran"]) == ("authorizing_source", "0")  # waited, the cloud untouched
    drive(other_replica, engine, second, "succeeded")
    assert steps.runs[(second, "authorizing_source")] == 1  # ran once the first had ended
    assert steps.runs[(second, "revoking_access")] == 1  # and, the last user now, released the role itself


def test_a_request_whose_authorize_step_began_first_keeps_the_role_alive(engine, make_engine):
    """The other order (found by review): the newcomer's authorize step has read the role and is still making its
    calls when the last user ends. The newcomer was recorded as a user before its step read the cloud, so the
    last user waits for that step, then keeps the role for it instead of deleting it under the newcomer's feet."""
    import threading
    reading, go_on = threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def authorizing(request, run):
        if request.id == seen.get("second"):
            reading.set()  # GetRole found the first request's role ...
            assert go_on.wait(30)  # ... and the step is still making its calls
        return uses_role(request, run)

    def running(request, run):
        if request.id == first and run == 1:  # until kicked
            return StepResult(Outcome.WAIT, retry_after=3600)
        return StepResult(Outcome.DONE, facts={"progress": 100})

    steps = ScriptedSteps(authorizing_source=authorizing, running=running)
    workflow, other_replica = make_engine(steps), make_engine(steps, owner="b")
    [first] = add_approved(engine)
    eventually(lambda: (workflow.tick(), steps.runs[(first, "running")] >= 1)[1], 30, "the first running",
               interval=0.01)
    [seen["second"]] = add_approved(engine)
    ticking = threading.Thread(target=lambda: eventually(lambda: (other_replica.tick(), reading.is_set())[1], 30,
                                                         "the newcomer's authorize step", interval=0.01))
    ticking.start()
    assert reading.wait(30)
    workflow.kick(first)
    drive(workflow, engine, first, "revoking_access")  # the first ends while the newcomer's step runs ...
    for _ in range(3):
        workflow.tick()
    assert load(engine, first).state == "revoking_access"  # ... and waits to see whether it uses the role
    go_on.set()
    ticking.join(30)
    drive(workflow, engine, first, "succeeded")
    assert steps.runs[(first, "revoking_access")] == 0
    assert any(f"request {seen['second']} still uses role" in n.payload["text"] for n in notices(engine, first))
    drive(other_replica, engine, seen["second"], "succeeded")
    assert steps.runs[(seen["second"], "revoking_access")] == 1


@pytest.mark.parametrize("role", ["the bot's", "a person's"])
def test_a_request_does_not_take_up_a_grant_that_its_last_sub_account_user_is_deleting(engine, make_engine, role):
    """The same race for the grant: its last sub-account user deletes it while the role stays (a root request
    still uses it, or it is a person's role the bot never deletes); a new sub-account request must not take it
    up meanwhile."""
    grant = policies.grant_policy_name(FIELDS["source_uin"], FIELDS["role_name"])
    seen: dict[str, str] = {}
    holding = {"on": True}

    def authorizing(request, run):
        if role == "the bot's":
            return uses_role(request, run)
        return StepResult(Outcome.DONE, facts={"role_used": True, "role_owner": None},
                          owned=(Owned("uses", "role", request.source_uin, request.role_name),))

    def running(request, run):
        if request.id == root_user and holding["on"]:
            return StepResult(Outcome.WAIT, retry_after=0.01)
        return StepResult(Outcome.DONE, facts={"progress": 100})

    def revoking(request, run):
        if request.id == leaving and run == 1:
            [seen["newcomer"]] = add_approved(engine, executor="100000000021")
            eventually(lambda: (other_replica.tick(),
                                _waiting_on_a_release(engine, seen["newcomer"], grant, leaving))[1],
                       30, "the new request to wait", interval=0.01)
            seen["state"] = load(engine, seen["newcomer"]).state
        return StepResult(Outcome.DONE, released=(Owned("created", "policy", request.target_uin, grant),))

    steps = ScriptedSteps(authorizing_source=authorizing, running=running, revoking_access=revoking)
    workflow, other_replica = make_engine(steps), make_engine(steps, owner="b")
    root_user = ""
    if role == "the bot's":
        [root_user] = add_approved(engine)
        drive(workflow, engine, root_user, "running")
    [leaving] = add_approved(engine, executor="100000000021")
    drive(workflow, engine, leaving, "succeeded")
    newcomer = seen["newcomer"]
    assert seen["state"] == "authorizing_source" and steps.runs[(newcomer, "authorizing_source")] == 0
    drive(other_replica, engine, newcomer, "running")
    assert steps.runs[(newcomer, "granting_subaccount")] == 1
    holding["on"] = False


def test_a_request_failing_its_authorize_step_never_holds_the_role(engine, make_engine):
    """Recorded as a user before its authorize step, a request whose step fails before it ever used the role
    lets it go: the role's last real user still deletes it."""
    holding = {"on": True}
    later: dict[str, str] = {}

    def authorizing(request, run):
        if request.id == later.get("other"):
            return StepResult(Outcome.FAILED, diagnosis=Diagnosis("RoleTrustPolicyMismatch", "no", "why", "fix"))
        return uses_role(request, run)

    def running(request, run):
        if request.id == holder and holding["on"]:
            return StepResult(Outcome.WAIT, retry_after=0.01)
        return StepResult(Outcome.DONE, facts={"progress": 100})

    steps = ScriptedSteps(authorizing_source=authorizing, running=running)
    workflow = make_engine(steps)
    [holder] = add_approved(engine)
    drive(workflow, engine, holder, "running")
    [later["other"]] = add_approved(engine)
    drive(workflow, engine, later["other"], "failed")
    holding["on"] = False
    drive(workflow, engine, holder, "succeeded")
    assert steps.runs[(holder, "revoking_access")] == 1


def test_requests_show_lists_no_release_once_the_revoke_is_over(engine, make_engine):
    """The `releases` record is a decision in progress: gone once the revoke ended, whatever it did."""
    steps = ScriptedSteps(revoking_access=lambda r, n: StepResult(Outcome.DONE, notice="role left to its owner"))
    [rid] = add_approved(engine)
    drive(make_engine(steps), engine, rid, "succeeded")
    with session_scope(engine) as session:
        assert [o.relation for o in ownership.of_request(session, rid)] == ["uses"]


def test_a_stale_replica_does_not_make_a_failed_request_hold_the_role(engine, settings):
    """Found by review. Replica a is frozen after claiming a newcomer's authorize step; b takes over once the lease ran out, the step
    fails (the role trusts another external ID) and lets the role go. When a wakes up, its take-up (core.role_sharing) must not
    record the failed request as a user again."""
    import threading
    holding, frozen, thawed = {"on": True}, threading.Event(), threading.Event()

    def authorizing(request, run):
        if request.id == holder:
            return uses_role(request, run)
        return StepResult(Outcome.FAILED, diagnosis=Diagnosis("RoleTrustPolicyMismatch", "no", "why", "fix"))

    def running(request, run):
        if request.id == holder and holding["on"]:
            return StepResult(Outcome.WAIT, retry_after=0.01)
        return StepResult(Outcome.DONE, facts={"progress": 100})

    steps = ScriptedSteps(authorizing_source=authorizing, running=running)
    clock = MovedClock()
    a = WorkflowEngine(engine, settings, steps.table, None, "a", retry=FAST_RETRY)
    b = WorkflowEngine(engine, settings, steps.table, None, "b", retry=FAST_RETRY, clock=clock)
    [holder] = add_approved(engine)
    drive(b, engine, holder, "running")
    [late] = add_approved(engine)
    drive(b, engine, late, "authorizing_source")
    real_take_up = a.sharing.take_up

    def frozen_take_up(request):
        frozen.set()
        assert thawed.wait(30)  # the replica is paused between its claim and its take-up
        return real_take_up(request)

    a.sharing.take_up = frozen_take_up  # type: ignore[method-assign]
    ticking = threading.Thread(target=a.tick)
    with session_scope(engine) as session:  # only `late` is due for a
        repository.update_request(session, repository.get_request(session, holder),
                                  next_run_at=utcnow() + timedelta(hours=1))
    ticking.start()
    assert frozen.wait(30)
    clock.move(6 * settings.scheduler.lease_seconds)  # a's lease ran out for b
    drive(b, engine, late, "failed")
    thawed.set()
    ticking.join(30)
    a.close()
    assert load(engine, late).state == "failed"
    holding["on"] = False
    b.kick(holder)
    drive(b, engine, holder, "succeeded")
    b.close()
    kept = [n.payload["text"] for n in notices(engine, holder) if "still uses role" in n.payload["text"]]
    assert kept == [], kept
    assert steps.runs[(holder, "revoking_access")] == 1  # the failed newcomer never used the role


@pytest.mark.parametrize("ending", ["succeeded", "failed_then_cancelled", "rejected", "expired", "still_failed"])
def test_a_shared_role_is_released_by_its_last_user_however_the_other_request_ends(engine, make_engine, settings,
                                                                                   ending):
    """Reference counting over every ending: the holder revokes when it ends unless another request that
    actually used the role is still unfinished; a request that only named the role (rejected, expired) never
    holds it, and one that used it holds it until it ends (a failed one may still be retried)."""
    holding, other = {"on": True}, ""

    def running(request, run):
        if request.id == holder and holding["on"]:
            return StepResult(Outcome.WAIT, retry_after=0.01)
        return StepResult(Outcome.DONE, facts={"progress": 100})

    def preflight(request, run):
        if request.id == other and ending in ("failed_then_cancelled", "still_failed"):
            return StepResult(Outcome.FAILED, diagnosis=Diagnosis("X", "preflight: no", "why", "fix"))
        return StepResult(Outcome.DONE)

    steps = ScriptedSteps(running=running, preflight=preflight)
    workflow = make_engine(steps)
    requests = MigrationRequests(engine, settings, run_now=lambda _id: None)
    [holder] = add_approved(engine)
    drive(workflow, engine, holder, "running")
    if ending in ("rejected", "expired"):
        with session_scope(engine) as session:
            other = repository.create_request(session, {**FIELDS}, "U0REQUESTER")[0].id
        if ending == "rejected":
            assert requests.reject(other, "U0SRCOWNER", "not now").ok
        else:
            assert requests.expire_overdue(now=utcnow() + timedelta(days=30)) == [other]
    else:
        [other] = add_approved(engine)
        drive(workflow, engine, other, "succeeded" if ending == "succeeded" else "failed")
        if ending == "failed_then_cancelled":
            assert requests.cancel(other, "U0REQUESTER").ok
            drive(workflow, engine, other, "cancelled")
        assert steps.runs[(other, "revoking_access" if ending == "succeeded" else "cancelling")] == 0  # kept
    holding["on"] = False
    drive(workflow, engine, holder, "succeeded")
    assert steps.runs[(holder, "revoking_access")] == (0 if ending == "still_failed" else 1)
    if ending == "still_failed":
        assert any(f"request {other} still uses role" in n.payload["text"] for n in notices(engine, holder))

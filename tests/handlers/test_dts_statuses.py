"""Documented DTS statuses through the real SDK and the sandbox: a check that ran and did not pass
(success × checkNotPass), blocked steps and a failed check task; DTS's own retry (resumableErr → resuming) and a
person's pause (pausing → manualPaused) are watched, not failed; a long recovery gets one notice; a re-verify or a
start later than the temporary credentials' life re-assumes the role and configures again (injected clock)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from stepflow import SOURCE_UIN, apply, run_flow

from core.cloud import CloudClients
from core.config import load_settings
from core.steps import Outcome
from handlers import start_task, stop_task, track_task, verify_task
from handlers.stop_task import START_GRACE_SECONDS
from sandbox.tencentcloud.dts.models import dts_backend

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"


def source_instance(sandbox):
    return sandbox.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001")


def verified(sandbox, clients, request_) -> None:
    """Run the request's steps until its task passed verification (the sandbox clock moves with each look)."""
    run_flow(request_, clients, until="verifying")
    while (result := verify_task(request_, clients)).outcome is Outcome.WAIT:
        apply(request_, result)
        sandbox.world.clock.advance(6)
    assert result.outcome is Outcome.DONE


def started(sandbox, clients, request_):
    """A request whose task passed verification and was started, at the sandbox moment of the start."""
    verified(sandbox, clients, request_)
    assert start_task(request_, clients).outcome is Outcome.DONE
    return dts_backend(sandbox.world).jobs[request_.job_id]


def track(request_, clients):
    result = track_task(request_, clients)
    apply(request_, result)
    return result


def test_check_not_passed_is_posted_as_failed_with_items_and_not_started(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["BinlogParamCheck", "SrcPrivilegeCheck:warning"]
    results = run_flow(request_, clients, until="running")
    last = results[-1]
    assert request_.state == "verify_failed" and last.outcome is Outcome.CHECK_FAILED
    assert not any("Verification" in (r.notice or "") and "passed" in r.notice for r in results)
    assert [(i["step"], i["kind"]) for i in last.facts["failed_checks"]] == [("binlog参数检查", "failed")]
    assert ":warning: *源实例权限检查*" in last.notice  # the warning item is shown too
    assert "_Help:_ https://cloud.tencent.com/document/product/571/58685" in last.notice
    assert "_Log:_ [BinlogParamCheck]" in last.notice
    assert not sandbox.calls.of("StartMigrateJob")
    assert start_task(request_, clients).outcome is Outcome.FAILED  # and start refuses it, too
    assert not sandbox.calls.of("StartMigrateJob")


def test_blocked_step_fails_the_check(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["ConnectDBCheck:blocked"]
    last = run_flow(request_, clients, until="running")[-1]
    assert last.outcome is Outcome.CHECK_FAILED
    assert [i["step"] for i in last.facts["failed_checks"]] == ["连接DB检查"]


def test_failed_check_task_is_reported_and_reverify_starts_a_new_one(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["check-task"]
    last = run_flow(request_, clients, until="running")[-1]
    assert last.outcome is Outcome.CHECK_FAILED and "itself failed" in last.notice
    source_instance(sandbox).fail_checks = []
    run_flow(request_, clients, until="running")  # re-verify
    assert request_.state == "running" and len(sandbox.calls.of("CreateMigrateCheckJob")) == 2


def test_resumable_error_is_watched_until_ready_to_complete(slow, request_):
    sandbox, clients = slow
    clock = sandbox.world.clock
    job = started(sandbox, clients, request_)
    clock.advance(3)
    assert track(request_, clients).outcome is Outcome.WAIT  # running
    dts_backend(sandbox.world).put(job, "resumableErr")  # then resuming, running, readyComplete on its own
    seen, results = [], []
    for _ in range(40):
        result = track(request_, clients)
        results.append(result)
        seen.append(request_.facts.dts_status)
        if result.outcome is not Outcome.WAIT:
            break
        clock.advance(1.5)
    assert all(r.outcome is not Outcome.FAILED for r in results)
    assert results[-1].outcome is Outcome.DONE and results[-1].next_state == "ready_to_complete"
    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == \
        ["resumableErr", "resuming", "running", "readyComplete"]
    retrying = results[0]
    until = datetime.fromtimestamp(retrying.facts["attention_since"] + 30 * 60, UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert f"(resumableErr): it retries by itself until {until}, then a target approver decides" in retrying.notice
    assert request_.facts.auto_retry_minutes == 30  # as configured (dts.auto_retry_minutes)
    assert retrying.facts["dts_attention"].startswith(":warning: DTS is retrying")
    assert request_.facts.dts_attention == ""  # cleared once it runs again


def test_a_pause_outside_slack_takes_the_request_to_paused(slow, request_):
    sandbox, clients = slow
    clock = sandbox.world.clock
    job = started(sandbox, clients, request_)
    clock.advance(3)
    dts_backend(sandbox.world).put(job, "pausing")
    pausing = track(request_, clients)
    assert pausing.outcome is Outcome.DONE and pausing.next_state == "paused" and "(pausing)" in pausing.notice
    assert pausing.facts["paused_by"] == "" and "DTS console" not in pausing.notice
    clock.advance(3)
    paused = track(request_, clients)
    assert paused.next_state == "paused" and "paused outside Slack (manualPaused)" in paused.notice
    assert "*Continue* goes on" in paused.facts["dts_attention"]


def test_a_long_recovery_gets_one_notice(slow, request_):
    sandbox, _ = slow
    now = [1_000_000.0]
    settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
    scheduler = settings.scheduler.model_copy(update={"recoverable_alert_minutes": 10})
    dts = settings.dts.model_copy(update={"auto_retry_minutes": 720})  # DTS retries for 12 h: the alert comes first
    clients = CloudClients(settings.model_copy(update={"scheduler": scheduler, "dts": dts}), backoff_base=0.01,
                           timeout=5, clock=lambda: now[0])
    job = started(sandbox, clients, request_)
    dts_backend(sandbox.world).put(job, "resumableErr", then=[])  # stays there
    first = track(request_, clients)
    assert first.notice and "resumableErr" in first.notice
    now[0] += 9 * 60
    assert track(request_, clients).notice is None
    now[0] += 2 * 60
    alert = track(request_, clients)
    assert alert.outcome is Outcome.WAIT and "over 10 minutes" in alert.notice
    now[0] += 60 * 60
    quiet = track(request_, clients)
    assert quiet.outcome is Outcome.WAIT and quiet.notice is None  # one notice, not one per poll


def aged_clients(sandbox, now):
    """Real CloudClients on `sandbox` whose clock is `now[0]` (epoch seconds), so a test ages credentials."""
    settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
    return CloudClients(settings, backoff_base=0.01, timeout=5, clock=lambda: now[0])


def test_reverify_hours_later_reassumes_the_role_and_configures_again(slow, request_):
    sandbox, _ = slow
    now = [time.time()]
    clients = aged_clients(sandbox, now)
    source_instance(sandbox).fail_checks = ["BinlogParamCheck"]
    run_flow(request_, clients, until="verifying")
    while (result := verify_task(request_, clients)).outcome is Outcome.WAIT:
        apply(request_, result)
        sandbox.world.clock.advance(6)
    apply(request_, result)
    assert result.outcome is Outcome.CHECK_FAILED
    assert len(sandbox.calls.of("AssumeRole")) == 1  # preflight; configure reused the cached session
    assert len(sandbox.calls.of("ModifyMigrationJob")) == 1

    source_instance(sandbox).fail_checks = []
    now[0] += 3 * 3600  # the person fixes the source the next morning: the 2 h credentials have expired
    renewed = verify_task(request_, clients)
    apply(request_, renewed)
    assert renewed.outcome is Outcome.WAIT and "new temporary credentials" in renewed.notice
    assert len(sandbox.calls.of("AssumeRole")) == 2 and len(sandbox.calls.of("ModifyMigrationJob")) == 2
    assert request_.facts.credentials_issued_at == now[0]
    sandbox.world.clock.advance(6)
    assert verify_task(request_, clients).outcome is Outcome.DONE
    assert len(sandbox.calls.of("ModifyMigrationJob")) == 2  # fresh now: not configured a third time


def test_start_hours_after_verification_configures_and_verifies_again(slow, request_):
    sandbox, _ = slow
    now = [time.time()]
    clients = aged_clients(sandbox, now)
    verified(sandbox, clients, request_)

    now[0] += 3 * 3600
    first = start_task(request_, clients)
    apply(request_, first)
    assert first.outcome is Outcome.WAIT and "expired" in first.notice
    assert not sandbox.calls.of("StartMigrateJob") and len(sandbox.calls.of("AssumeRole")) == 2
    assert len(sandbox.calls.of("ModifyMigrationJob")) == 2 and len(sandbox.calls.of("CreateMigrateCheckJob")) == 2
    assert start_task(request_, clients).outcome is Outcome.WAIT  # checking
    sandbox.world.clock.advance(6)
    assert start_task(request_, clients).outcome is Outcome.DONE
    assert len(sandbox.calls.of("StartMigrateJob")) == 1 and len(sandbox.calls.of("ModifyMigrationJob")) == 2


def test_a_cancel_watches_a_task_that_says_it_never_started_before_the_access_goes(slow, request_):
    """A StartMigrateJob DTS accepted a moment ago may not show yet: checkPass is watched for a grace period
    (and a start that shows in it is stopped) before stop_task lets the access go."""
    sandbox, _ = slow
    now = [time.time()]
    clients = aged_clients(sandbox, now)
    verified(sandbox, clients, request_)
    assert dts_backend(sandbox.world).jobs[request_.job_id].status(sandbox.world.clock.now()) == "checkPass"
    waiting = stop_task(request_, clients)
    apply(request_, waiting)
    assert waiting.outcome is Outcome.WAIT and not sandbox.calls.of("StopMigrateJob")
    now[0] += START_GRACE_SECONDS / 2
    assert stop_task(request_, clients).outcome is Outcome.WAIT  # still within the grace period
    now[0] += START_GRACE_SECONDS
    done = stop_task(request_, clients)
    assert done.outcome is Outcome.DONE and not sandbox.calls.of("StopMigrateJob")  # it never started

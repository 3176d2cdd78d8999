"""Recovery as documented, step by step through the real SDK and the sandbox (injected clocks): `resumableErr` is
watched within the task's AutoRetryTimeRangeMinutes and fails with *Retry task* past it (also when DTS keeps the
task in `resumableErr`), `error` fails with *Retry task*, the resume sends the documented ResumeOption and hands
the task back to tracking, a task DTS ended otherwise is not resumed, and a stop DTS refuses in a status outside
its documented list is read again instead of failing."""

from __future__ import annotations

import time

from stepflow import apply
from test_dts_statuses import aged_clients, started, track

from core.cloud import CloudClients
from core.notices import RETRY_TASK, retry_buttons
from core.steps import Outcome
from handlers import resume_task, stop_task
from sandbox.tencentcloud.dts.models import dts_backend


def test_resumable_error_past_the_window_fails_with_retry_task_and_resumes(slow, request_):
    sandbox, _ = slow
    now = [time.time()]
    clients = aged_clients(sandbox, now)
    job = started(sandbox, clients, request_)
    dts_backend(sandbox.world).put(job, "resumableErr", then=[])  # DTS keeps it there (the sandbox clock stands)
    assert track(request_, clients).outcome is Outcome.WAIT
    now[0] += 29 * 60
    assert track(request_, clients).outcome is Outcome.WAIT  # within the 30 minutes DTS retries by itself
    now[0] += 60
    failed = track(request_, clients)
    assert failed.outcome is Outcome.FAILED and failed.diagnosis.code == "AutoRetryExhausted"
    assert "for 30 minutes" in failed.diagnosis.why and "*Retry task*" in failed.diagnosis.fix
    assert retry_buttons(request_, "running", failed.facts["dts_status"]) == [RETRY_TASK]
    assert failed.facts["attention_since"] is None  # the retry starts a new episode

    request_.state = "resuming_task"
    sent = resume_task(request_, clients)
    apply(request_, sent)
    assert sent.outcome is Outcome.WAIT and "ResumeOption `normal`" in sent.notice
    assert job.resume_options == ["normal"]
    again = resume_task(request_, clients)  # DTS shows `resuming` at once: tracking takes over
    assert again.outcome is Outcome.DONE and again.facts["resume_sent_at"] is None
    assert len(sandbox.calls.of("ResumeMigrateJob")) == 1


def test_without_a_retry_window_resumable_error_fails_at_once(slow, request_):
    sandbox, _ = slow
    settings = aged_clients(sandbox, [time.time()]).settings
    clients = CloudClients(settings.model_copy(update={"dts": settings.dts.model_copy(
        update={"auto_retry_minutes": 0})}), backoff_base=0.01, timeout=5)
    job = started(sandbox, clients, request_)
    assert sandbox.calls.of("ModifyMigrationJob")[-1].params["AutoRetryTimeRangeMinutes"] == 0
    assert request_.facts.auto_retry_minutes == 0
    dts_backend(sandbox.world).put(job, "resumableErr")  # DTS does not retry: the task is in error at once
    failed = track(request_, clients)
    assert failed.outcome is Outcome.FAILED and failed.facts["dts_status"] == "error"
    assert "*Retry task*" in failed.diagnosis.fix


def test_a_task_dts_ended_otherwise_is_not_resumed(slow, request_):
    sandbox, clients = slow
    job = started(sandbox, clients, request_)
    dts_backend(sandbox.world).put(job, "canceled", then=[])
    failed = track(request_, clients)
    assert failed.outcome is Outcome.FAILED
    assert retry_buttons(request_, "running", failed.facts["dts_status"]) == []  # only Cancel is left
    request_.state = "resuming_task"
    ended = resume_task(request_, clients)
    assert ended.outcome is Outcome.FAILED and "cannot resume" in ended.diagnosis.why
    assert not sandbox.calls.of("ResumeMigrateJob")


def test_a_stop_refused_in_resumable_error_waits_and_stops_once_dts_moves_on(slow, request_):
    sandbox, clients = slow
    job = started(sandbox, clients, request_)
    backend = dts_backend(sandbox.world)
    backend.put(job, "resumableErr", then=[])
    refused = stop_task(request_, clients)
    assert refused.outcome is Outcome.WAIT and "does not take a stop" in refused.notice
    assert [c.outcome for c in sandbox.calls.of("StopMigrateJob")] == ["error"]
    backend.put(job, "error", then=[])  # past its retry window
    assert stop_task(request_, clients).outcome is Outcome.WAIT  # StopMigrateJob accepted: stopping
    sandbox.world.clock.advance(5)
    assert stop_task(request_, clients).outcome is Outcome.DONE
    assert [c.outcome for c in sandbox.calls.of("StopMigrateJob")] == ["error", "ok"]

"""Recovery as DTS documents it, through the real SDK: StopMigrateJob in exactly its documented statuses,
`resumableErr` recovered by DTS only within the job's `AutoRetryTimeRangeMinutes` (then `error`),
ResumeMigrateJob with the `ResumeOption` each engine takes, and progress that resumes as `DumperResumeCtrl` says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tencentcloud.dts.v20211206 import dts_client
from test_dts import (
    REGION,
    TARGET_UIN,
    buy,
    configure,
    dts_call,
    error_of,
    source_node,
    wait_check,
    wait_status,
)

from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts.models import Job, dts_backend
from sandbox.tencentcloud.world import Instance, World, default_world

STOP_DOCUMENTED = {"running", "readyRun", "readyComplete", "error", "manualPaused", "unknown"}
"""StopMigrateJob: "当任务状态为运行中、准备运行、准备完成、错误、暂停、未知等状态时可调用此接口终止任务"."""


@pytest.fixture
def world() -> World:
    """The default world on a still clock, with same-account MySQL and Redis pairs in the target account."""
    world = default_world(speed=1e-3)
    world.account(TARGET_UIN).instances += [Instance("cdb-dst00003", "mysql", REGION, "10.0.2.30", 3306),
                                            Instance("crs-dst00001", "redis", REGION, "10.0.2.40", 6379),
                                            Instance("crs-dst00002", "redis", REGION, "10.0.2.41", 6379)]
    return world


def running(world: World, client: dts_client.DtsClient, retry_minutes: int = 30, engine: str = "mysql") -> Job:
    """A job configured with `retry_minutes` of automatic retry, verified and started: running."""
    (job_id,) = buy(client, engine)
    src, dst = ("crs-dst00001", "crs-dst00002") if engine == "redis" else ("cdb-dst00003", "cdb-dst00001")
    if engine == "redis":  # both single-node, as the task's NodeType simple says (crs-dst00002 is a cluster)
        target = world.instance(TARGET_UIN, "ap-guangzhou", dst)
        assert target is not None
        target.topology = "standard"
    configure(client, job_id, source_node(src), dst, engine=engine, AutoRetryTimeRangeMinutes=retry_minutes)
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    dts_call(client, "StartMigrateJob", JobId=job_id)
    assert wait_status(client, job_id, {"running"}, world.clock).Status == "running"
    return dts_backend(world).jobs[job_id]


def statuses(world: World, client: dts_client.DtsClient, job: Job, seconds: int) -> list[str]:
    """The statuses the job goes through in the next `seconds` sandbox seconds, one look per second."""
    seen = [dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status]
    for _ in range(seconds):
        world.clock.advance(1)
        if (now := dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status) != seen[-1]:
            seen.append(now)
    return seen


def progress(client: dts_client.DtsClient, job: Job) -> int:
    steps = dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).StepInfo.StepInfo
    return sum(step.Percent for step in steps[:2]) // 2  # the export and import steps


def test_the_stoppable_statuses_are_exactly_the_documented_ones() -> None:
    assert set(lc.STOPPABLE) == STOP_DOCUMENTED
    assert {s for s in lc.JOB_STATUSES if "stop" in lc.allowed_actions(s)} == STOP_DOCUMENTED


@pytest.mark.parametrize("status", ["error", "unknown"])
def test_a_task_in_error_or_unknown_can_be_stopped(world: World, dts: Callable[..., Any], status: str) -> None:
    client = dts()
    job = running(world, client)
    dts_backend(world).put(job, status, then=[])
    dts_call(client, "StopMigrateJob", JobId=job.job_id)
    assert statuses(world, client, job, 10) == ["stopping", "canceled"]


def test_a_stop_in_resumable_error_is_refused_as_a_status_conflict(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client)
    dts_backend(world).put(job, "resumableErr", then=[])
    assert error_of(lambda: dts_call(client, "StopMigrateJob", JobId=job.job_id)).code == \
        "FailedOperation.StatusInConflict"


def test_resumable_error_recovers_by_itself_within_the_retry_window(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client, retry_minutes=5)
    dts_backend(world).put(job, "resumableErr")
    assert statuses(world, client, job, 60) == ["resumableErr", "resuming", "running", "readyComplete"]
    assert dts_call(client, "DescribeMigrationJobs", JobId=job.job_id).JobList[0].AutoRetryTimeRangeMinutes == 5


def test_resumable_error_that_outlasts_the_window_is_an_error(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client, retry_minutes=5)
    dts_backend(world).put(job, "resumableErr", then=[])  # the cause persists
    world.clock.advance(5 * 60 - 1)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status == "resumableErr"
    world.clock.advance(1)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status == "error"


def test_without_a_retry_window_dts_does_not_retry(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client, retry_minutes=0)
    dts_backend(world).put(job, "resumableErr")
    assert statuses(world, client, job, 30) == ["error"]


def test_resume_takes_an_error_back_to_running_with_the_normal_option(world: World,
                                                                      dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client)
    assert error_of(lambda: dts_call(client, "ResumeMigrateJob", JobId=job.job_id, ResumeOption="normal")).code \
        == "FailedOperation.StatusInConflict"  # a running task is not abnormal
    dts_backend(world).put(job, "error", then=[])
    for redis_only in ("overwrite", "clearData"):
        refused = error_of(lambda o=redis_only: dts_call(client, "ResumeMigrateJob", JobId=job.job_id,
                                                         ResumeOption=o))
        assert refused.code == "InvalidParameterValue.InvalidParameterValue" and "normal" in refused.message
    dts_call(client, "ResumeMigrateJob", JobId=job.job_id, ResumeOption="normal")
    assert statuses(world, client, job, 60) == ["resuming", "running", "readyComplete"]
    assert job.resume_options == ["normal"]


def test_a_redis_task_resumes_from_failed_with_a_redis_option(world: World, dts: Callable[..., Any]) -> None:
    client = dts()
    job = running(world, client, engine="redis")
    dts_backend(world).put(job, "failed", then=[])
    assert error_of(lambda: dts_call(client, "ResumeMigrateJob", JobId=job.job_id, ResumeOption="normal")).code \
        == "InvalidParameterValue.InvalidParameterValue"
    dts_call(client, "ResumeMigrateJob", JobId=job.job_id, ResumeOption="overwrite")
    assert statuses(world, client, job, 60) == ["resuming", "running", "readyComplete"]


@pytest.mark.parametrize(("resumable", "after_resume"), [(True, "the checkpoint"), (False, "the start")])
def test_a_resumed_export_goes_on_as_dumper_resume_ctrl_says(world: World, dts: Callable[..., Any],
                                                            resumable: bool, after_resume: str) -> None:
    client = dts()
    job = running(world, client)
    job.dumper_resumable = resumable
    world.clock.advance(lc.RUN_SECONDS / 4)
    before = progress(client, job)
    assert 20 <= before <= 30  # a quarter of the run
    detail = dts_call(client, "DescribeMigrationDetail", JobId=job.job_id)
    assert detail.DumperResumeCtrl == ("yes" if resumable else "no")
    dts_backend(world).put(job, "error", then=[])
    world.clock.advance(60)
    dts_call(client, "ResumeMigrateJob", JobId=job.job_id, ResumeOption="normal")
    world.clock.advance(lc.RESUME_SECONDS)  # running again, not a second of it yet
    resumed = progress(client, job)
    assert abs(resumed - (before if after_resume == "the checkpoint" else 0)) <= 1


@pytest.mark.parametrize("minutes", [3, 721, -1])
def test_a_retry_window_outside_the_documented_range_is_refused(dts: Callable[..., Any], minutes: int) -> None:
    client = dts()
    (job_id,) = buy(client)
    refused = error_of(lambda: configure(client, job_id, source_node("cdb-dst00003"),
                                         AutoRetryTimeRangeMinutes=minutes))
    assert refused.code == "InvalidParameterValue.InvalidParameterValue"

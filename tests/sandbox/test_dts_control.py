"""Control of a running task as DTS documents it, through the real SDK: PauseMigrateJob → pausing → manualPaused,
ContinueMigrateJob → running (from the checkpoint or from the start, as DumperResumeCtrl says), and rate limits:
MigrateOption.RateLimit at configure time, ModifyMigrateRateLimit only while running and within its documented
ranges, RateLimitOption reflecting them, progress slowed by them."""

from __future__ import annotations

import pytest
from test_dts import buy, configure, dts_call, error_of, source_node, wait_check
from test_dts_recovery import running, world  # noqa: F401 - the still-clock world fixture

from sandbox.tencentcloud.dts.models import dts_backend


def percent(client, job_id: str) -> int:
    steps = dts_call(client, "DescribeMigrationDetail", JobId=job_id).StepInfo.StepInfo
    return steps[0].Percent


def test_pause_then_continue_resumes_or_restarts_as_dumper_resume_ctrl_says(world, dts) -> None:  # noqa: F811
    client = dts()
    job = running(world, client)
    world.clock.advance(5)
    before = percent(client, job.job_id)
    assert before > 0
    assert error_of(lambda: dts_call(client, "ContinueMigrateJob", JobId=job.job_id)).get_code() == \
        "FailedOperation.StatusInConflict"
    dts_call(client, "PauseMigrateJob", JobId=job.job_id)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status == "pausing"
    world.clock.advance(3)
    paused = dts_call(client, "DescribeMigrationDetail", JobId=job.job_id)
    assert paused.Status == "manualPaused" and paused.DumperResumeCtrl == "yes"
    world.clock.advance(100)
    assert percent(client, job.job_id) == before  # nothing moves while paused
    dts_call(client, "ContinueMigrateJob", JobId=job.job_id)
    assert dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).Status == "running"
    assert percent(client, job.job_id) == before  # from the checkpoint

    dts_call(client, "PauseMigrateJob", JobId=job.job_id)
    world.clock.advance(3)
    job.dumper_resumable = False
    assert dts_call(client, "DescribeMigrationDetail", JobId=job.job_id).DumperResumeCtrl == "no"
    dts_call(client, "ContinueMigrateJob", JobId=job.job_id)
    assert percent(client, job.job_id) == 0  # the export starts over


def test_rate_limits_are_configured_modified_within_range_and_slow_the_full_load(world, dts) -> None:  # noqa: F811
    client = dts()
    (job_id,) = buy(client)
    configure(client, job_id, source_node("cdb-dst00003"), "cdb-dst00001")
    limits = dts_call(client, "DescribeMigrationDetail", JobId=job_id).RateLimitOption
    assert (limits.CurrentDumpThread, limits.DefaultDumpThread, limits.HasUserSetRateLimit) == (8, 8, "no")
    assert error_of(lambda: dts_call(client, "ModifyMigrateRateLimit", JobId=job_id, DumpThread=2)).get_code() == \
        "FailedOperation.StatusInConflict"  # only while the task runs

    dts_call(client, "ModifyMigrationJob", JobId=job_id, RunMode="immediate", MigrateOption={
        "MigrateType": "fullAndIncrement", "DatabaseTable": {"ObjectMode": "all"},
        "RateLimit": {"DumpThread": 4, "SinkerThread": 0}},
        SrcInfo={"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                 "Info": [source_node("cdb-dst00003")]},
        DstInfo={"Region": "ap-guangzhou", "AccessType": "cdb", "DatabaseType": "mysql", "NodeType": "simple",
                 "Info": [source_node("cdb-dst00001")]})
    limits = dts_call(client, "DescribeMigrationDetail", JobId=job_id).RateLimitOption
    assert (limits.CurrentDumpThread, limits.CurrentSinkerThread, limits.HasUserSetRateLimit) == (4, 16, "yes")
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    assert wait_check(client, job_id, world.clock).CheckFlag == "checkPass"
    dts_call(client, "StartMigrateJob", JobId=job_id)
    world.clock.advance(2)
    job = dts_backend(world).jobs[job_id]
    assert job.run.speed == pytest.approx(0.5)  # 4 of 8 export threads

    for name, value in (("DumpThread", 17), ("LoadThread", 0), ("SinkerThread", 129), ("DumpRps", 0)):
        error = error_of(lambda n=name, v=value: dts_call(client, "ModifyMigrateRateLimit", JobId=job_id, **{n: v}))
        assert error.get_code().startswith("InvalidParameterValue") and name in error.get_message()
    world.clock.advance(4)
    at_half = percent(client, job_id)
    dts_call(client, "ModifyMigrateRateLimit", JobId=job_id, DumpThread=8, DumpRps=10_000)
    limits = dts_call(client, "DescribeMigrationDetail", JobId=job_id).RateLimitOption
    assert (limits.CurrentDumpThread, limits.CurrentDumpRps) == (8, 10_000)
    world.clock.advance(4)
    assert percent(client, job_id) - at_half < at_half  # a tenth of the default rows/s: slower than before

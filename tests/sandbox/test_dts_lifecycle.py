"""The sandbox's DTS job follows the documented lifecycle, can be put into any documented status at a chosen
moment, and answers every status with fields of the API reference's output schema (checked by the fixture's
`output_drift` and by the real SDK's models, whose unknown-field warning is an error in this suite)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from tencentcloud.dts.v20211206 import models as dts_models
from test_dts import buy, dts_call

from sandbox.tencentcloud import schema
from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.world import World, default_world


@pytest.fixture
def world() -> World:
    """The default world on a clock that all but stands still: the test moves it with `advance`."""
    return default_world(speed=0.001)


def running_job(world: World, client: Any) -> Any:
    (job_id,) = buy(client)
    job = dts_backend(world).jobs[job_id]
    dts_backend(world).put(job, "running")
    return job


def status(client: Any, job_id: str) -> str:
    return dts_call(client, "DescribeMigrationDetail", JobId=job_id).Status


@pytest.mark.parametrize(("entered", "then"), [  # resumableErr: its retry window, tests/sandbox/test_dts_recovery.py
    ("pausing", ["manualPaused"]),
    ("stopping", ["canceled"]),
    ("completing", ["success"]),
])
def test_documented_continuations(world: World, dts: Any, entered: str, then: list[str]) -> None:
    client = dts()
    job = running_job(world, client)
    dts_backend(world).put(job, entered)
    seen = [status(client, job.job_id)]
    for _ in range(60):  # one sandbox second at a time: every phase lasts at least two
        world.clock.advance(1)
        if (now := status(client, job.job_id)) != seen[-1]:
            seen.append(now)
    assert seen == [entered, *then]


def test_put_at_a_chosen_moment(world: World, dts: Any) -> None:
    client = dts()
    job = running_job(world, client)
    dts_backend(world).put(job, "manualPaused", after=3600)
    assert status(client, job.job_id) == "running"
    world.clock.advance(3600)
    assert status(client, job.job_id) == "manualPaused"
    with pytest.raises(ValueError, match="not a documented"):
        dts_backend(world).put(job, "paused")


@pytest.mark.parametrize("status", lc.JOB_STATUSES)
def test_every_documented_status_is_answered_as_documented(world: World, dts: Any, status: str) -> None:
    client = dts()
    (job_id,) = buy(client)
    job = dts_backend(world).jobs[job_id]
    dts_backend(world).put(job, status, then=[])
    detail = dts_call(client, "DescribeMigrationDetail", JobId=job_id)  # the SDK's models read every field
    listed = dts_call(client, "DescribeMigrationJobs", JobId=job_id)
    assert detail.Status == status and [j.Status for j in listed.JobList] == [status]
    assert dts_call(client, "DescribeMigrationCheckJob", JobId=job_id).Status == "notStarted"


def test_output_check_names_an_undocumented_field_and_a_wrong_type() -> None:
    answer = {"Status": "success", "CheckFlag": "checkPass", "StepInfo": [{"StepNo": "1"}], "Passed": True}
    assert schema.output_problems("dts", "DescribeMigrationCheckJob", answer) == [
        "StepInfo.0.StepNo: expected non-negative Integer, got str", "Passed: not in the API reference"]


def test_the_sdk_unknown_field_warning_is_an_error_here() -> None:
    """The SDK warns for unknown fields of nested objects (a response's own fields are checked by
    `output_drift`); pyproject's filterwarnings makes that warning fail the test that reads the answer."""
    with pytest.raises(UserWarning, match="fileds are useless"):
        dts_models.CheckStep()._deserialize({"StepNo": 1, "Passed": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dts_models.CheckStep()._deserialize({"StepNo": 1, "StepStatus": "blocked"})

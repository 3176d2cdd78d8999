"""DTS reads the task steps share: the task bought for a request (found by its tag) and its detail."""

from __future__ import annotations

from typing import Any

from core.cloud import Api
from core.i18n import _
from core.steps import Diagnosis, StepResult
from handlers.step import failed
from storage.models import MigrationRequest

REQUEST_TAG = "dtsbot-request"
"""Tag on every task the bot buys; its value is the request id, so a retry finds the task instead of buying."""


def tagged_task(dts: Api, request_id: str) -> str | None:
    """Job id of the (oldest) task tagged with this request id, or None."""
    body = dts.call("DescribeMigrationJobs", {
        "TagFilters": [{"TagKey": REQUEST_TAG, "TagValue": [request_id]}], "OrderSeq": "asc", "Limit": 10,
    })
    jobs = body.get("JobList") or []
    return jobs[0]["JobId"] if jobs else None


def task_id(request: MigrationRequest, dts: Api) -> str | None:
    """The request's job id: the stored one, else the task found by tag (a crash before it was stored)."""
    return request.job_id or tagged_task(dts, request.id)


def no_task(step: str) -> StepResult:
    """The failure of a task step run for a request that has no DTS task yet."""
    return failed(Diagnosis("NoTask", f"{step}: " + _("the request has no DTS task"), _("create_task has not run."),
                            _("Retry the request from creating_task.")))


def job_detail(dts: Api, job_id: str) -> dict[str, Any]:
    """DescribeMigrationDetail of the task."""
    return dts.call("DescribeMigrationDetail", {"JobId": job_id})


def step_progress(detail: dict[str, Any]) -> int:
    """Overall migration progress in percent: the mean of the run steps' percentages."""
    steps = (detail.get("StepInfo") or {}).get("StepInfo") or []
    if not steps:
        return 0
    return int(sum(int(step.get("Percent") or 0) for step in steps) / len(steps))

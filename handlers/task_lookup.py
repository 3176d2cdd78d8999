"""DTS reads the task steps share: the task bought for a request (found by its tag) and its detail."""

from __future__ import annotations

from typing import Any

from core.cloud import Api, CloudClients
from handlers.step import NoTask, target_dts
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


def the_task(request: MigrationRequest, clients: CloudClients) -> tuple[Api, str]:
    """DTS in the target region as the executor, and the request's job id; raises NoTask when it has none."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        raise NoTask
    return dts, job_id


def job_detail(dts: Api, job_id: str) -> dict[str, Any]:
    """DescribeMigrationDetail of the task."""
    return dts.call("DescribeMigrationDetail", {"JobId": job_id})


def step_progress(detail: dict[str, Any]) -> int:
    """Overall migration progress in percent: the mean of the run steps' percentages."""
    steps = (detail.get("StepInfo") or {}).get("StepInfo") or []
    if not steps:
        return 0
    return int(sum(int(step.get("Percent") or 0) for step in steps) / len(steps))

"""DTS compare tasks (the consistency check) of one sandbox world: state and the API's answer objects.

A compare task belongs to a migration job (`dts-xxxxxxxx-cmp-xxxxxxxx`) and follows the documented `Status`
values (CompareTaskItem: created, readyRun, running, success, stopping, failed, canceled) on a timeline, as jobs
do: CreateCompareTask → created; StartCompare → readyRun, running, then success with its `Conclusion` (same,
different, skipAll); StopCompare → stopping, then canceled. The tables a task checks are the sandbox's
`TABLES` plus the source instance's `differing_tables`, which it finds different (`DIFF_ROWS` rows each).
Guesses where the documents are silent (README, guesses table): CreateCompareTask is refused with
`UnsupportedOperation` on a link DTS cannot compare and with `FailedOperation.StatusInConflict` unless the job is
running or readyComplete; DeleteCompareTask is refused while the task runs.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.exceptions import TencentCloudError

STATUSES = ("created", "readyRun", "running", "success", "stopping", "failed", "canceled")
CONCLUSIONS = ("same", "different", "skipAll")
READY_RUN_SECONDS = 1.0
COMPARE_SECONDS = 6.0
STOPPING_SECONDS = 2.0
TABLES = ("shop.customers", "shop.order_items", "shop.orders")
DIFF_ROWS = 3
COMPARABLE_JOBS = frozenset({lc.RUNNING, lc.READY_COMPLETE})
METHODS = ("dataCheck", "sampleDataCheck", "rowsCount")


@dataclass
class CompareTask:
    """One compare task of a job: its options, the tables it checks and those it finds different."""

    task_id: str
    job_id: str
    name: str
    options: dict[str, Any]
    created_at: float
    tables: list[str]
    differing: list[str]
    timeline: lc.Timeline = field(default_factory=lc.Timeline)
    started_at: float | None = None
    skipped: list[str] = field(default_factory=list)

    def status(self, now: float) -> str:
        return self.timeline.status(now)

    def conclusion(self, now: float) -> str:
        """The documented conclusion once it succeeded, else ""."""
        if self.status(now) != "success":
            return ""
        return "different" if self.differing else "same" if self.tables else "skipAll"


class CompareBackend:
    """Compare tasks by id, for the jobs of one world."""

    def __init__(self) -> None:
        self.tasks: dict[str, CompareTask] = {}
        self._count = 0

    def create(self, job_id: str, name: str, options: dict[str, Any], now: float, differing: list[str],
               skipped: list[str] | None = None) -> CompareTask:
        self._count += 1
        suffix = "".join(string.ascii_lowercase[(self._count * 7 + i * 3) % 26] for i in range(8))
        task_id = f"{job_id}-cmp-{suffix}"
        tables = sorted(set(TABLES) | set(differing))
        task = CompareTask(task_id, job_id, name or task_id, options, now, tables, sorted(differing),
                           lc.Timeline([(now, "created")]), skipped=sorted(skipped or []))
        self.tasks[task_id] = task
        return task

    def get(self, job_id: str, task_id: str) -> CompareTask:
        task = self.tasks.get(task_id)
        if task is None or task.job_id != job_id:
            raise TencentCloudError("ResourceNotFound", f"compare task {task_id} of job {job_id} does not exist")
        return task

    def of_job(self, job_id: str) -> list[CompareTask]:
        return [task for task in self.tasks.values() if task.job_id == job_id]

    def start(self, task: CompareTask, now: float) -> None:
        status = task.status(now)
        if status != "created":
            raise _conflict(task, status, "StartCompare")
        task.started_at = now
        task.timeline.schedule(now, (0, "readyRun"), (READY_RUN_SECONDS, "running"),
                               (READY_RUN_SECONDS + COMPARE_SECONDS, "success"))

    def stop(self, task: CompareTask, now: float) -> None:
        status = task.status(now)
        if status not in ("readyRun", "running"):
            raise _conflict(task, status, "StopCompare")
        task.timeline.schedule(now, (0, "stopping"), (STOPPING_SECONDS, "canceled"))

    def delete(self, task: CompareTask, now: float) -> None:
        status = task.status(now)
        if status in ("readyRun", "running", "stopping"):
            raise _conflict(task, status, "DeleteCompareTask")
        del self.tasks[task.task_id]


def _conflict(task: CompareTask, status: str, action: str) -> TencentCloudError:
    return TencentCloudError("FailedOperation.StatusInConflict",
                             f"compare task {task.task_id} is {status}: {action} is not allowed in this status")


def _split(table: str) -> tuple[str, str]:
    db, _, name = table.partition(".")
    return db, name


def _options(task: CompareTask) -> dict[str, Any]:
    options = task.options
    return {"Method": options.get("Method") or "dataCheck", "SampleRate": int(options.get("SampleRate") or 100),
            "ThreadCount": int(options.get("ThreadCount") or 1), "Type": options.get("Type") or "builtin",
            "CompareMode": list(options.get("CompareMode") or ["full"]), "ReCheckTime": 0, "ReCheckInterval": 0}


def _objects() -> dict[str, Any]:
    return {"ObjectMode": "all", "ObjectItems": [], "AdvancedObjects": []}


def _progress(task: CompareTask, now: float, fmt: Any) -> dict[str, Any]:
    status = task.status(now)
    state = {"created": "notStarted", "readyRun": "notStarted", "running": "running", "success": "success",
             "stopping": "running", "failed": "failed", "canceled": "failed"}[status]
    percent = 100 if status == "success" else int(100 * lc.fraction(
        (task.started_at or now) + READY_RUN_SECONDS, COMPARE_SECONDS, now)) if status == "running" else 0
    return {"Status": state, "Percent": percent, "StepAll": 1, "StepNow": 1 if status != "created" else 0,
            "Message": "", "Steps": []}


def item(task: CompareTask, now: float, fmt: Any) -> dict[str, Any]:
    """CompareTaskItem as DescribeCompareTasks lists it."""
    status = task.status(now)
    finished = task.timeline.entered(status, now) if status in ("success", "failed", "canceled") else None
    return {"JobId": task.job_id, "CompareTaskId": task.task_id, "TaskName": task.name, "Status": status,
            "Config": _objects(), "CheckProcess": _progress(task, now, fmt), "CompareProcess": _progress(task, now, fmt),
            "Conclusion": task.conclusion(now), "CreatedAt": fmt(task.created_at), "StartedAt": fmt(task.started_at),
            "FinishedAt": fmt(finished), "Method": _options(task)["Method"], "Options": _options(task),
            "Message": ""}


def report(task: CompareTask, now: float, fmt: Any, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeCompareReport: the abstract and the differing / skipped tables, paged by db/table."""
    done = task.status(now) == "success"
    differing = task.differing if done else []
    wanted = [t for t in differing if params.get("DifferenceDB") in (None, "", _split(t)[0])
              and params.get("DifferenceTable") in (None, "", _split(t)[1])]
    offset, limit = int(params.get("DifferenceOffset") or 0), int(params.get("DifferenceLimit") or 20)
    items = [{"Db": _split(t)[0], "Schema": "", "Table": _split(t)[1], "Chunk": 1, "SrcItem": str(DIFF_ROWS * 10),
              "DstItem": str(DIFF_ROWS * 10 - DIFF_ROWS), "IndexName": "PRIMARY", "LowerBoundary": "1",
              "UpperBoundary": str(DIFF_ROWS * 10), "CostTime": 12.5, "FinishedAt": fmt(now)}
             for t in wanted[offset:offset + limit]]
    finished = task.timeline.entered("success", now) if done else None
    skipped = [{"Db": _split(t)[0], "Schema": "", "Table": _split(t)[1], "Reason": "no primary key"}
               for t in (task.skipped if done else [])][:int(params.get("SkippedLimit") or 20)]
    abstract = {"Options": _options(task), "Objects": _objects(), "Conclusion": task.conclusion(now),
                "Status": "success" if done else "", "TotalTables": len(task.tables) + len(task.skipped),
                "CheckedTables": len(task.tables) if done else 0, "DifferentTables": len(differing),
                "SkippedTables": len(task.skipped) if done else 0, "NearlyTableCount": len(task.tables), "DifferentRows": DIFF_ROWS * len(differing),
                "SrcSampleRows": 0, "DstSampleRows": 0, "StartedAt": fmt(task.started_at), "FinishedAt": fmt(finished)}
    return {"Abstract": abstract, "Detail": {"Difference": {"TotalCount": len(wanted), "Items": items},
                                             "Skipped": {"TotalCount": len(skipped), "Items": skipped}}}


def diff_items(task: CompareTask, now: float, fmt: Any, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeCompareDiffItems: the rows of one differing table (DiffChunkItem)."""
    table = f"{params.get('DBName') or ''}.{params.get('TableName') or ''}"
    rows = [] if task.status(now) != "success" or table not in task.differing else [
        {"DBName": _split(table)[0], "SchemaName": "", "TableName": _split(table)[1], "ChunkId": 1,
         "Identifier": f"id={n}", "DiffType": "data" if n % 3 else "dstLack", "SchemaInfo": ["id", "amount"],
         "SrcItem": [str(n), f"{n}.00"], "DstItem": [str(n), f"{n}.50"] if n % 3 else [], "FinishedAt": fmt(now)}
        for n in range(1, DIFF_ROWS + 1)]
    offset, limit = int(params.get("Offset") or 0), int(params.get("Limit") or 20)
    return {"TotalCount": len(rows), "Items": rows[offset:offset + limit]}


def compare_backend(world: Any) -> CompareBackend:
    """The world's compare tasks (`world.services["dts_compare"]`), created on first use."""
    backend = world.services.get("dts_compare")
    if backend is None:
        backend = world.services["dts_compare"] = CompareBackend()
    return backend

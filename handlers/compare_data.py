"""The consistency check in the thread: a DTS compare task created, started, followed and reported.

CreateCompareTask (method from `cutover.compare_method`) → StartCompare → DescribeCompareTasks until `success`
(or failed / canceled) → DescribeCompareReport (conclusion, tables checked, differing and skipped tables) →
DescribeCompareDiffItems for the first few differing tables. Started by *Check data* (`compare_wanted`) or, under
`cutover.compare: auto`, once the lag first reads 0. Idempotent: the task is named after the request, so a run
killed after CreateCompareTask finds it instead of creating another; `close` stops and deletes it when the
request ends (a task already gone is fine). A link DTS cannot compare (`UnsupportedOperation`: a guess, the
documents are silent) is recorded as "unavailable": the gate then needs the two-sided override.
A compare error never fails the migration: a transient one is retried with the step, any other ends the check.
"""

from __future__ import annotations

from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api, CloudClients
from core.diagnosis import is_transient
from core.i18n import _
from storage.facts import Facts
from storage.models import MigrationRequest

RUNNING = frozenset({"created", "readyRun", "running", "stopping"})
FINISHED = frozenset({"success", "failed", "canceled"})
DIFF_TABLES_SHOWN = 3
DIFF_ROWS_SHOWN = 3


def task_name(request: MigrationRequest) -> str:
    """The compare task's name: the request's, so a re-run finds the task it created."""
    return f"dtsbot-{request.id}"


def options(clients: CloudClients) -> dict[str, Any]:
    """CompareOptions from the settings."""
    cutover = clients.settings.cutover
    chosen: dict[str, Any] = {"Method": cutover.compare_method}
    if cutover.compare_method == "sampleDataCheck":
        chosen["SampleRate"] = cutover.sample_rate
    return chosen


def _wanted(facts: Facts, clients: CloudClients) -> bool:
    if facts.compare_wanted:
        return True
    return (clients.settings.cutover.compare == "auto" and facts.lag_zero_since is not None
            and not facts.compare_task_id and facts.compare_conclusion is None and facts.compare_status is None)


def follow(facts: Facts, request: MigrationRequest, clients: CloudClients, dts: Api, job_id: str,
           notices: list[str]) -> dict[str, Any]:
    """The compare facts this run changes: start a wanted check, follow a running one, report a finished one."""
    if clients.settings.cutover.compare == "off" or (facts.compare_conclusion == "unavailable"
                                                     and not facts.compare_wanted):
        return {}
    try:
        if _wanted(facts, clients):
            return _start(facts, request, clients, dts, job_id, notices)
        if facts.compare_task_id and facts.compare_status not in FINISHED:
            return _poll(facts, dts, job_id, notices, clients.clock())
    except TencentCloudSDKException as error:
        if is_transient(error):
            raise
        if str(error.get_code() or "").startswith("UnsupportedOperation"):
            notices.append(_(":warning: DTS cannot run the consistency check on this link ({code}): the gate "
                             "shows it as not available, which needs the two-sided override.",
                             code=error.get_code()))
            return {"compare_wanted": False, "compare_conclusion": "unavailable", "compare_status": None}
        notices.append(_(":warning: The consistency check stopped with a DTS error: {code} {message}. Press "
                         "*Check data* to run it again.", code=error.get_code(), message=error.get_message()))
        return {"compare_wanted": False, "compare_status": "failed"}
    return {}


def _find(dts: Api, job_id: str, name: str) -> dict[str, Any] | None:
    body = dts.call("DescribeCompareTasks", {"JobId": job_id, "Limit": 100})
    return next((item for item in body.get("Items") or [] if item.get("TaskName") == name), None)


def _start(facts: Facts, request: MigrationRequest, clients: CloudClients, dts: Api, job_id: str,
           notices: list[str]) -> dict[str, Any]:
    """A new check: the previous task of this request goes first (a finished one), then create (or find) and start."""
    name = task_name(request)
    found = _find(dts, job_id, name)
    if found is not None and found.get("Status") in FINISHED:
        dts.call("DeleteCompareTask", {"JobId": job_id, "CompareTaskId": found["CompareTaskId"]})
        found = None
    if found is None:
        body = dts.call("CreateCompareTask", {"JobId": job_id, "TaskName": name, "ObjectMode": "sameAsMigrate",
                                              "Options": options(clients)})
        task_id, status = str(body["CompareTaskId"]), "created"
    else:
        task_id, status = str(found["CompareTaskId"]), str(found.get("Status"))
    if status == "created":
        dts.call("StartCompare", {"JobId": job_id, "CompareTaskId": task_id})
        status = "readyRun"
        notices.append(_(":mag: Consistency check started (DTS compare task `{task}`, method {method}).",
                         task=task_id, method=clients.settings.cutover.compare_method))
    return {"compare_task_id": task_id, "compare_status": status, "compare_wanted": False,
            "compare_conclusion": None, "compare_report": None, "compare_closed": None, "compare_finished_at": None}


def _poll(facts: Facts, dts: Api, job_id: str, notices: list[str], now: float) -> dict[str, Any]:
    task_id = str(facts.compare_task_id)
    body = dts.call("DescribeCompareTasks", {"JobId": job_id, "CompareTaskId": task_id})
    item = next(iter(body.get("Items") or []), None)
    if item is None:
        notices.append(_(":warning: The consistency check's compare task `{task}` is gone in DTS. Press *Check data* "
                         "to run it again.", task=task_id))
        return {"compare_status": "failed", "compare_task_id": None}
    status = str(item.get("Status"))
    if status != "success":
        if status in ("failed", "canceled"):
            notices.append(_(":warning: The consistency check did not conclude (`{status}`): {message}. Press "
                             "*Check data* to run it again.", status=status, message=item.get("Message") or "-"))
        return {"compare_status": status}
    report = read_report(dts, job_id, task_id)
    report["conclusion"] = str(item.get("Conclusion") or report.get("conclusion") or "")
    notices.append(report_text(report))
    return {"compare_status": status, "compare_conclusion": report["conclusion"], "compare_report": report,
            "compare_finished_at": now}


def read_report(dts: Api, job_id: str, task_id: str) -> dict[str, Any]:
    """What the thread is told of a finished check: the abstract, the first differing tables with their first
    differing rows, the skipped tables."""
    body = dts.call("DescribeCompareReport", {"JobId": job_id, "CompareTaskId": task_id,
                                              "DifferenceLimit": DIFF_TABLES_SHOWN, "SkippedLimit": DIFF_TABLES_SHOWN})
    abstract = body.get("Abstract") or {}
    detail = body.get("Detail") or {}
    differing = []
    for item in (detail.get("Difference") or {}).get("Items") or []:
        rows = dts.call("DescribeCompareDiffItems", {"JobId": job_id, "CompareTaskId": task_id,
                                                     "DBName": item.get("Db"), "TableName": item.get("Table"),
                                                     "Limit": DIFF_ROWS_SHOWN})
        differing.append({"table": f"{item.get('Db')}.{item.get('Table')}",
                          "rows": [f"{r.get('Identifier')} ({r.get('DiffType')})" for r in rows.get("Items") or []],
                          "total_rows": int(rows.get("TotalCount") or 0)})
    skipped = [{"table": f"{s.get('Db')}.{s.get('Table')}", "reason": s.get("Reason") or ""}
               for s in (detail.get("Skipped") or {}).get("Items") or []]
    return {"conclusion": abstract.get("Conclusion") or "", "task": task_id,
            "tables": int(abstract.get("TotalTables") or 0), "checked": int(abstract.get("CheckedTables") or 0),
            "different_tables": int(abstract.get("DifferentTables") or 0),
            "different_rows": int(abstract.get("DifferentRows") or 0),
            "skipped_tables": int(abstract.get("SkippedTables") or 0), "differing": differing, "skipped": skipped}


def report_text(report: dict[str, Any]) -> str:
    """The report as the thread shows it."""
    icon = ":white_check_mark:" if report.get("conclusion") == "same" else ":x:"
    lines = [_("{icon} *Consistency check:* {conclusion} — {checked} of {tables} tables checked, {diff_tables} "
               "differ ({diff_rows} rows), {skipped} skipped.", icon=icon, conclusion=report.get("conclusion") or "-",
               checked=report.get("checked", 0), tables=report.get("tables", 0),
               diff_tables=report.get("different_tables", 0), diff_rows=report.get("different_rows", 0),
               skipped=report.get("skipped_tables", 0))]
    for table in report.get("differing") or []:
        lines.append(_("• differs: `{table}` ({count} rows), e.g. {rows}", table=table["table"],
                       count=table["total_rows"], rows=", ".join(table["rows"]) or "-"))
    for table in report.get("skipped") or []:
        lines.append(_("• skipped: `{table}`: {reason}", table=table["table"], reason=table["reason"] or "-"))
    if report.get("conclusion") == "different":
        lines.append(_("The differences block the cutover gate: fix them and press *Check data* again, or both "
                       "sides override."))
    return "\n".join(lines)


def close(request: MigrationRequest, dts: Api, job_id: str) -> bool:
    """Stop and delete the request's compare task when the request ends; True once it is gone (idempotent:
    a task already deleted, or never made, is gone)."""
    found = _find(dts, job_id, task_name(request))
    if found is None:
        return True
    status = str(found.get("Status"))
    if status in ("readyRun", "running"):
        dts.call("StopCompare", {"JobId": job_id, "CompareTaskId": found["CompareTaskId"], "ForceStop": True})
        return False
    if status == "stopping":
        return False
    dts.call("DeleteCompareTask", {"JobId": job_id, "CompareTaskId": found["CompareTaskId"]})
    return True


def close_if_any(request: MigrationRequest, dts: Api, job_id: str) -> None:
    """`close` for a request that made a compare task, run by the steps that end it (complete, stop); a DTS error
    other than a transient one never holds up the ending (the task is named after the request for a person to
    find). Looked up by name for every request that reached the gate: a task created by a step whose outcome was
    dropped (a person completed meanwhile) is not in the facts."""
    if not request.facts.compare_task_id and request.facts.cutover_evidence is None:
        return
    try:
        close(request, dts, job_id)
    except TencentCloudSDKException as error:
        if is_transient(error):
            raise

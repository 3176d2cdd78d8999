"""Render DTS jobs into the API's response objects (JobItem, DescribeMigrationDetail, CheckStep, ...).

Field names follow tccli's api.json for dts/v20211206 so the real SDK fills its models. Times are Beijing
time `yyyy-mm-dd hh:mm:ss`, "0000-00-00 00:00:00" when unset, as DTS answers. Secrets never leave:
stored endpoints have no temporary credentials and a masked password.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.tencentcloud.dts import lifecycle as lc
from sandbox.tencentcloud.dts import throttle
from sandbox.tencentcloud.dts.checks import BLOCKED, CHECK_HELP, FAILED, PASS, StepResult, passed
from sandbox.tencentcloud.dts.models import Endpoint, Job

BEIJING = timezone(timedelta(hours=8))
ZERO_TIME = "0000-00-00 00:00:00"
MASKED = "xxxxxxxx"
SECRET_FIELDS = ("TmpSecretId", "TmpSecretKey", "TmpToken")
_DB_INFO_TEXT = ("Role", "DbKernel", "Host", "User", "Password", "CvmInstanceId", "UniqVpnGwId", "UniqDcgId",
                 "InstanceId", "CcnGwId", "VpcId", "SubnetId", "EngineVersion", "Account", "AccountRole",
                 "AccountMode", "TmpSecretId", "TmpSecretKey", "TmpToken", "EncryptConn", "SetId")
# migrate type -> (step id, step name) run in order
_RUN_STEPS = {
    "structure": [("dumper", "源库导出"), ("loader", "数据导入")],
    "full": [("dumper", "源库导出"), ("loader", "数据导入")],
    "fullAndIncrement": [("dumper", "源库导出"), ("loader", "数据导入"), ("sinker", "同步增量")],
}
CHECK_TASK_FAILURE = "The check task failed in DTS (sandbox: the instance is marked `check-task`)."
RUN_FAILURE = ("The migration failed while exporting the source (sandbox: the instance is marked to fail "
               "while running).")


def fmt(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, BEIJING).strftime("%Y-%m-%d %H:%M:%S") if ts else ZERO_TIME


def sanitize_info(info: dict[str, Any]) -> dict[str, Any]:
    """A DBInfo as DTS keeps it for display: no temporary credentials, password masked."""
    clean = {key: value for key, value in info.items() if key not in SECRET_FIELDS}
    if clean.get("Password"):
        clean["Password"] = MASKED
    return clean


def endpoint(ep: Endpoint | None, region: str, database_type: str) -> dict[str, Any]:
    """DBEndpointInfo; before configuration only the purchased region and engine are known."""
    if ep is None:
        return {"Region": region, "AccessType": "", "DatabaseType": database_type, "NodeType": "",
                "Info": [], "Supplier": "", "ExtraAttr": []}
    infos = [{**{key: "" for key in _DB_INFO_TEXT}, "Port": 0, **sanitize_info(info)} for info in ep.info]
    return {"Region": ep.region, "AccessType": ep.access_type, "DatabaseType": ep.database_type,
            "NodeType": ep.node_type, "Info": infos, "Supplier": ep.supplier, "ExtraAttr": ep.extra_attr}


def _run_window(job: Job, now: float) -> tuple[float, float] | None:
    """(start of running, moment of reading or of leaving running) for the progress of a started job."""
    running_at = job.timeline.entered(lc.RUNNING, now)
    if running_at is None:
        return None
    left = [at for at, _ in job.timeline.events if running_at < at <= now]
    return running_at, left[0] if left else now


def step_info(job: Job, now: float) -> dict[str, Any]:
    """MigrateDetailInfo: export and import advance with the clock, then incremental sync runs."""
    if job.run is None:
        return {"StepAll": 0, "StepNow": 0, "MasterSlaveDistance": 0, "SecondsBehindMaster": 0, "StepInfo": []}
    status = job.status(now)
    steps = _RUN_STEPS.get(job.run.migrate_type, _RUN_STEPS["fullAndIncrement"])
    window = _run_window(job, now)
    share = min(1.0, job.ran(now) / lc.RUN_SECONDS)  # since the last restart without a checkpoint
    bulk = 2
    rendered, current = [], 1
    for number, (step_id, name) in enumerate(steps, start=1):
        if number <= bulk:
            percent = int(min(100.0, max(0.0, (share * bulk - (number - 1)) * 100)))
            done, started = percent == 100, window is not None and share * bulk >= number - 1
        else:
            done, started = status == lc.SUCCESS, share >= 1.0
            percent = 100 if done else 0
        state = "success" if done else "running" if started else "notStarted"
        errors = []
        if state == "running" and status == lc.FAILED:
            state = "failed"
            errors = [{"Message": RUN_FAILURE, "Solution": "Fix the source instance, then retry the task.",
                       "HelpDoc": CHECK_HELP}]
        if started:
            current = number
        rendered.append({"StepNo": number, "StepName": name, "StepId": step_id, "Status": state,
                         "StartTime": fmt(window[0]) if started and window else "", "StepMessage": "",
                         "Percent": percent, "Errors": errors, "Warnings": []})
    return {"StepAll": len(steps), "StepNow": current, "MasterSlaveDistance": 0, "SecondsBehindMaster": 0,
            "StepInfo": rendered}


def trade_info(job: Job, now: float) -> dict[str, Any]:
    return {"DealName": job.deal_name, "LastDealName": "", "InstanceClass": job.instance_class,
            "TradeStatus": job.trade_status(now), "ExpireTime": ZERO_TIME,
            "OfflineTime": ZERO_TIME, "IsolateTime": fmt(job.isolated_at), "OfflineReason": "",
            "IsolateReason": "manual" if job.isolated_at else "", "PayType": "postpay",
            "BillingType": job.billing_type}


def _end_time(job: Job, now: float) -> str:
    status = job.status(now)
    return fmt(job.timeline.entered(status, now)) if status in lc.FINISHED else ZERO_TIME


def job_item(job: Job, now: float) -> dict[str, Any]:
    """JobItem as DescribeMigrationJobs lists it."""
    status = job.status(now)
    config = job.config
    return {
        "JobId": job.job_id, "JobName": job.name, "CreateTime": fmt(job.created_at),
        "UpdateTime": fmt(job.timeline.last_at(now)), "StartTime": fmt(job.run.started_at if job.run else None),
        "EndTime": _end_time(job, now), "BriefMsg": RUN_FAILURE if status == lc.FAILED else "",
        "Status": status, "RunMode": config.run_mode if config else "",
        "ExpectRunTime": config.expect_run_time if config else "",
        "Action": {"AllAction": list(lc.ALL_ACTIONS), "AllowedAction": lc.allowed_actions(status)},
        "StepInfo": step_info(job, now),
        "SrcInfo": endpoint(config.src if config else None, job.src_region, job.src_database_type),
        "DstInfo": endpoint(config.dst if config else None, job.dst_region, job.dst_database_type),
        "CompareTask": {"CompareTaskId": "", "Status": "notexist"},
        "TradeInfo": trade_info(job, now),
        "Tags": [{"TagKey": key, "TagValue": value} for key, value in job.tags.items()],
        "AutoRetryTimeRangeMinutes": config.auto_retry_minutes if config else 0,
        "DumperResumeCtrl": "yes" if job.dumper_resumable else "no",
    }


def _check_done(job: Job, now: float) -> int:
    """How many check steps have finished at `now` (they finish evenly over CHECK_SECONDS)."""
    assert job.check is not None
    share = lc.fraction(job.check.started_at, lc.CHECK_SECONDS, now)
    return len(job.check.results) if share >= 1.0 else int(share * len(job.check.results))


def _detail_items(result: StepResult) -> list[dict[str, Any]]:
    """A failed, blocked or warning step's one item (CheckResult is pass, failed or warning: blocked → failed)."""
    if result.status == PASS:
        return []
    fails = result.status in (FAILED, BLOCKED)
    return [{"CheckItemName": result.name, "Description": result.reason,
             "CheckResult": FAILED if fails else result.status, "FailureReason": result.reason if fails else "",
             "Solution": result.solution, "ErrorLog": [f"[{result.step_id}] {result.reason}"],
             "HelpDoc": [CHECK_HELP], "SkipInfo": ""}]


def check_job(job: Job, now: float) -> dict[str, Any]:
    """DescribeMigrationCheckJob: steps reveal their outcome as the check advances.

    As documented, `Status` is the check task's state (notStarted, running, failed = the task itself failed,
    success = it finished) and `CheckFlag` the verdict (checkPass / checkNotPass); a check that found problems
    is success × checkNotPass. The flag is empty until the check task ends (the docs do not say; see README)."""
    if job.check is None:
        return {"Status": "notStarted", "BriefMsg": "", "StepInfo": [], "CheckFlag": ""}
    done = _check_done(job, now)
    steps = []
    for number, result in enumerate(job.check.results):
        finished = number < done
        steps.append({"StepNo": number, "StepId": result.step_id, "StepName": result.name,
                      "StepStatus": result.status if finished else "notStarted",
                      "StepMessage": result.reason if finished and result.status in (FAILED, BLOCKED) else "",
                      "DetailCheckItems": _detail_items(result) if finished else [], "HasSkipped": False})
    if done < len(job.check.results):
        return {"Status": "running", "BriefMsg": "checking", "StepInfo": steps, "CheckFlag": ""}
    if job.check.task_failed:
        return {"Status": "failed", "BriefMsg": CHECK_TASK_FAILURE, "StepInfo": steps,
                "CheckFlag": lc.CHECK_NOT_PASS}
    ok = passed(job.check.results)
    return {"Status": "success", "BriefMsg": "check pass" if ok else "check not pass",
            "StepInfo": steps, "CheckFlag": lc.CHECK_PASS if ok else lc.CHECK_NOT_PASS}


def check_step_info(job: Job, now: float) -> dict[str, Any]:
    """CheckStepInfo of DescribeMigrationDetail: the last check's progress."""
    if job.check is None:
        return {"StartAt": ZERO_TIME, "EndAt": ZERO_TIME, "Progress": {
            "Status": "notStarted", "Percent": 0, "StepAll": 0, "StepNow": 0, "Message": "", "Steps": []}}
    checked = check_job(job, now)
    total, done = len(job.check.results), _check_done(job, now)
    state = ("running" if checked["Status"] == "running" else
             "success" if checked["CheckFlag"] == lc.CHECK_PASS else "failed")
    steps = [{"StepNo": step["StepNo"], "StepName": step["StepName"], "StepId": step["StepId"],
              "Status": "notStarted" if step["StepStatus"] == "notStarted" else
              "failed" if step["StepStatus"] in (FAILED, BLOCKED) else "success",
              "StartTime": "", "StepMessage": step["StepMessage"], "Percent": 100 if step["StepNo"] < done else 0,
              "Errors": [{"Message": i["FailureReason"], "Solution": i["Solution"], "HelpDoc": CHECK_HELP}
                         for i in step["DetailCheckItems"] if i["CheckResult"] == FAILED],
              "Warnings": [{"Message": i["Description"], "Solution": i["Solution"], "HelpDoc": CHECK_HELP}
                           for i in step["DetailCheckItems"] if i["CheckResult"] != FAILED]}
             for step in checked["StepInfo"]]
    end = job.check.started_at + lc.CHECK_SECONDS if done == total else None
    return {"StartAt": fmt(job.check.started_at), "EndAt": fmt(end), "Progress": {
        "Status": state, "Percent": int(100 * done / total) if total else 100, "StepAll": total,
        "StepNow": done, "Message": checked["BriefMsg"], "Steps": steps}}


def detail(job: Job, now: float) -> dict[str, Any]:
    """DescribeMigrationDetail: the job item plus options, check progress and errors."""
    item = job_item(job, now)
    item.pop("AutoRetryTimeRangeMinutes")  # listed by DescribeMigrationJobs only
    status = item["Status"]
    option = dict(job.config.migrate_option) if job.config else {}
    if job.config:
        option.setdefault("MigrateType", job.config.migrate_type)
    errors = [{"Code": "MigrationFailed", "Solution": "Fix the source instance, then retry the task.",
               "ErrorLog": RUN_FAILURE, "HelpDoc": CHECK_HELP}] if status == lc.FAILED else []
    return {**item, "MigrateOption": option, "CheckStepInfo": check_step_info(job, now), "ErrorInfo": errors,
            "RateLimitOption": throttle.option(job.rate_limit)}

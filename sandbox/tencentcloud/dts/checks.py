"""The verification ("check") steps a DTS task runs before it may start, and how a world makes one fail.

Step ids and names are those DTS reports (`DescribeMigrationCheckJob.StepInfo`). An instance's
`fail_checks` lists step ids it fails (e.g. `BinlogParamCheck`); `"<StepId>:warning"` makes the step pass
with a warning instead, `"<StepId>:blocked"` blocks it (DTS could not run it: the check does not pass), and
`"check-task"` makes the check task itself fail (`DescribeMigrationCheckJob.Status=failed`). The outcome is decided when the check starts, so a test that fixes the instance
and checks again sees the new result. `findings` (dts.topology: an endpoint that does not fit its instance) fail
their steps with their own reason and solution.
"""

from __future__ import annotations

from dataclasses import dataclass

PASS = "pass"
FAILED = "failed"
WARNING = "warning"
BLOCKED = "blocked"
CHECK_TASK_FAILS_MARKER = "check-task"
CHECK_HELP = "https://cloud.tencent.com/document/product/571/58685"

# step id -> (name, failure reason, solution)
STEPS: dict[str, tuple[str, str, str]] = {
    "ConnectDBCheck": (
        "连接DB检查",
        "DTS cannot connect to the source or target database.",
        "Check the instance status, the account and password, and that the DTS IPs are allowed.",
    ),
    "VersionCheck": (
        "版本检查",
        "The target database version is lower than the source version.",
        "Use a target instance whose version is the same as or higher than the source.",
    ),
    "SrcPrivilegeCheck": (
        "源实例权限检查",
        "The source database account lacks the privileges DTS needs.",
        "Grant the migration account the privileges listed in the check item documentation.",
    ),
    "SimpleParamCheck": (
        "部分实例参数检查",
        "Some source and target instance parameters differ (e.g. lower_case_table_names).",
        "Make the listed parameters identical on both instances.",
    ),
    "DstPrivilegeCheck": (
        "目标实例权限检查",
        "The target database account lacks the privileges DTS needs.",
        "Grant the target account the privileges listed in the check item documentation.",
    ),
    "DstEmptyCheck": (
        "目标实例内容冲突检查",
        "The target instance already has databases or tables with the same names.",
        "Drop or rename the conflicting objects on the target, or migrate other objects.",
    ),
    "DstSpaceCheck": (
        "目标实例空间检查",
        "The target instance does not have enough free disk space.",
        "Scale up the target instance storage.",
    ),
    "BinlogParamCheck": (
        "binlog参数检查",
        "The source binlog settings do not allow incremental migration (log_bin, binlog_format, ...).",
        "Set binlog_format=ROW and binlog_row_image=FULL on the source instance, then check again.",
    ),
    "ConstraintCheck": (
        "外键依赖检查",
        "Migrated tables reference tables that are not migrated (foreign keys).",
        "Add the referenced tables to the migration objects.",
    ),
    "ViewCheck": (
        "视图检查",
        "Migrated views reference objects that are not migrated.",
        "Add the referenced objects to the migration objects.",
    ),
    "WarningParamCheck": (
        "警告项检查",
        "Some instance parameters are risky for the migration.",
        "Review the listed parameters.",
    ),
    "NodeTypeCheck": (
        "节点类型检查",
        "The task's node type does not match the instance's architecture.",
        "Modify the task with the instance's node type, then check again.",
    ),
}

_MYSQL_FAMILY = {"mysql", "mariadb", "percona", "cynosdbmysql", "tdsqlmysql"}
_WITH_TOPOLOGY = {"mongodb", "redis", "tendis"}
_COMMON = ["ConnectDBCheck", "VersionCheck", "SrcPrivilegeCheck", "DstPrivilegeCheck", "DstEmptyCheck",
           "DstSpaceCheck"]


def steps_for(database_type: str) -> list[str]:
    """The check step ids DTS runs for a source engine (MySQL family adds binlog and constraint checks; MongoDB
    and the Redis family check the node type)."""
    if database_type in _MYSQL_FAMILY:
        return _COMMON[:3] + ["SimpleParamCheck"] + _COMMON[3:] + [
            "BinlogParamCheck", "ConstraintCheck", "ViewCheck", "WarningParamCheck"]
    if database_type in _WITH_TOPOLOGY:
        return _COMMON[:1] + ["NodeTypeCheck"] + _COMMON[1:]
    return list(_COMMON)


@dataclass(frozen=True)
class StepResult:
    """The outcome of one check step: `status` is pass, failed, blocked or warning."""

    step_id: str
    status: str
    finding: tuple[str, str] | None = None  # (reason, solution) of this failure, instead of the step's own

    @property
    def name(self) -> str:
        return STEPS[self.step_id][0]

    @property
    def reason(self) -> str:
        return self.finding[0] if self.finding else STEPS[self.step_id][1]

    @property
    def solution(self) -> str:
        return self.finding[1] if self.finding else STEPS[self.step_id][2]


def run_checks(database_type: str, fail_checks: list[str],
               findings: dict[str, tuple[str, str]] | None = None) -> list[StepResult]:
    """Decide every step's outcome from the instances' `fail_checks` markers and the endpoints' `findings`
    (step id → reason, solution)."""
    findings = findings or {}
    failed = {marker for marker in fail_checks if ":" not in marker}
    warned = {marker.split(":", 1)[0] for marker in fail_checks if marker.endswith(":warning")}
    blocked = {marker.split(":", 1)[0] for marker in fail_checks if marker.endswith(":blocked")}
    results = []
    for step_id in steps_for(database_type):
        if step_id in findings:
            results.append(StepResult(step_id, FAILED, findings[step_id]))
            continue
        status = (FAILED if step_id in failed else BLOCKED if step_id in blocked
                  else WARNING if step_id in warned else PASS)
        results.append(StepResult(step_id, status))
    return results


def passed(results: list[StepResult]) -> bool:
    """A check passes when no step failed or was blocked (warnings still pass)."""
    return all(result.status not in (FAILED, BLOCKED) for result in results)

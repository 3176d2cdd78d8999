"""The guide's FAQ as code: a Tencent Cloud error becomes what happened, why, and what to do.

`diagnose` reads the error-code table (core/error_codes.py: every documented code with its decision) and the
guide's FAQ ("Migrating data between instances across Tencent accounts": "role not exist", a sub-account without
`sts:AssumeRole`), which the message and the role being assumed refine; `is_transient` says which errors are
worth retrying later without a person (the table's RETRY and REREAD rows); `check_fix` gives the fix for a
failed DTS verification step.
"""

from __future__ import annotations

import re
from typing import Protocol

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.error_codes import ROLE_NOT_FOUND, Decision, ErrorRow, row_for
from core.i18n import N_, _
from core.steps import Diagnosis

CHECK_ITEM_OVERVIEW = "https://intl.cloud.tencent.com/document/product/571/42551"
_RESOURCE = re.compile(r"resource \(([^)]+)\)")


class Sides(Protocol):
    """The accounts of a request, as a diagnosis names them (storage.models.MigrationRequest has them)."""

    @property
    def target_account(self) -> str: ...
    @property
    def target_uin(self) -> str: ...


MISSING_ROLE = frozenset({"ResourceNotFound.RoleNotFound", "InternalError.GetRoleError"})
"""No such role: STS's own code, and the DTS console's (the guide's FAQ 1 quotes it on the instance list)."""


def denies_assume(code: str) -> bool:
    """STS's `UnauthorizedOperation`, or the `AuthFailure.UnauthorizedOperation` the guide's FAQ 3 quotes."""
    return code.startswith("AuthFailure.UnauthorizedOperation") or code == "UnauthorizedOperation"


def row_of(error: TencentCloudSDKException) -> ErrorRow:
    """The table's row for this error; the FAQ's "role not exist" message is FAQ 1 whatever the code."""
    code, message = _text(error)
    return ROLE_NOT_FOUND if "role not exist" in message.lower() else row_for(code)


def is_transient(error: TencentCloudSDKException) -> bool:
    """Whether running the step again later (with backoff) may succeed without anyone changing anything: a
    transient error, or a task status that changed under the call (the step reads it again, then decides)."""
    return row_of(error).decision in (Decision.RETRY, Decision.REREAD)


def _text(error: TencentCloudSDKException) -> tuple[str, str]:
    return str(error.get_code() or ""), str(error.get_message() or "")


def _words(sides: Sides | None, role: str | None) -> dict[str, str]:
    """What a row's texts name: the target account (with its UIN), whose owners act on a low balance or a quota,
    and the role."""
    target = (_("the target account {name} ({uin})", name=sides.target_account, uin=sides.target_uin)
              if sides is not None else _("the target account"))
    return {"target": target, "arn": role or _("the source role")}


def diagnose(error: TencentCloudSDKException, step: str, *, executor: str | None = None,
             role: str | None = None, sides: Sides | None = None) -> Diagnosis:
    """What happened in `step`, why, and the fix, with the cloud RequestId; `executor` refines FAQ 3, `sides`
    names the accounts (a diagnosis that reaches a side's approvers says which account they must act on).

    `role`: the role ARN when the error answered STS AssumeRole of that role (a bare `UnauthorizedOperation` then
    reads as the guide's FAQ 3, another `AuthFailure` as the assuming identity's keys)."""
    code, message = _text(error)
    what = f"{step}: {message} [{code}]" if message else f"{step}: {code}"
    lowered = message.lower()

    def found(why: str, fix: str, reach: str | None = None) -> Diagnosis:
        return Diagnosis(code=code, what=what, why=why, fix=fix, request_id=error.get_request_id() or None,
                         reach=reach)

    if denies_assume(code) and ("sts:assumerole" in lowered or role):
        match = _RESOURCE.search(message)
        resource = match.group(1) if match else role or _("the role ARN from the message")
        if executor not in (None, "root"):
            return found(
                _("The account that creates the migration task is a sub-account ({executor}) without the "
                  "`sts:AssumeRole` permission.", executor=executor),
                _("Use the root account to create the migration task (executor=root), or ask the target root "
                  "account to authorize the sub-account with `resource` set to `{resource}` (the grant step).",
                  resource=resource),
            )
        return found(
            _("The role's trust policy does not let this account assume it (another trusted account, or a "
              "different external ID)."),
            _("Make the trust policy of `{resource}` trust the target root account with this request's external "
              "ID, or choose another role_name.", resource=resource),
        )
    if code.startswith("AuthFailure") and role:
        return found(
            _("STS rejected the API keys of the identity that assumes the role (the target root account, or the "
              "executor sub-account)."),
            _("Check the target account's `credentials` (or the executor's keys) in app.yaml, then retry."),
        )
    row = row_of(error)
    why, fix = explain(row, sides, role)
    return found(why, fix, row.reach if row.decision is Decision.DIAGNOSE else None)


def explain(row: ErrorRow | str, sides: Sides | None = None, role: str | None = None) -> tuple[str, str]:
    """Why and the fix of a row (or of the row deciding a code), in the current language, naming the accounts."""
    found = row_for(row) if isinstance(row, str) else row
    words = _words(sides, role)
    return _(found.why, **words), _(found.fix, **words)


# DTS check step id -> the fix the channel sees (the check items of "Check Item Overview").
CHECK_FIXES: dict[str, str] = {
    "ConnectDBCheck": N_("Make sure the instance is running, the account and password in app.yaml `databases` "
                      "are right, and DTS's IP ranges are allowed."),
    "VersionCheck": N_("Use a target instance whose version is the same as or higher than the source's."),
    "SrcPrivilegeCheck": N_("Grant the source migration account the privileges DTS needs (SELECT, RELOAD, "
                         "LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, PROCESS)."),
    "DstPrivilegeCheck": N_("Grant the target account the privileges DTS needs (ALL on the migrated objects)."),
    "DstEmptyCheck": N_("Drop or rename the conflicting databases/tables on the target, or migrate other objects."),
    "DstSpaceCheck": N_("Scale up the target instance's storage."),
    "BinlogParamCheck": N_("Set binlog_format=ROW and binlog_row_image=FULL (log_bin=ON) on the source instance."),
    "SimpleParamCheck": N_("Make the listed parameters (e.g. lower_case_table_names) identical on both instances."),
    "ConstraintCheck": N_("Add the tables referenced by foreign keys to the migration objects."),
    "ViewCheck": N_("Add the objects the migrated views reference to the migration objects."),
}


def check_fix(step_id: str, solution: str | None = None) -> str:
    """The fix for a failed verification step: ours when known, else DTS's solution, else the overview."""
    if step_id in CHECK_FIXES:
        return _(CHECK_FIXES[step_id])
    if solution:
        return solution
    return _("Fix the problem as instructed in Check Item Overview ({url}) and verify again.", url=CHECK_ITEM_OVERVIEW)


def render(diagnosis: Diagnosis) -> str:
    """The channel text of a diagnosis (mrkdwn)."""
    rid = f"\nRequestId: `{diagnosis.request_id}`" if diagnosis.request_id else ""
    return _(":x: {what}\n*Why:* {why}\n*Fix:* {fix}", what=diagnosis.what, why=diagnosis.why, fix=diagnosis.fix) + rid

"""The guide's FAQ as code: a Tencent Cloud error becomes what happened, why, and what to do.

`diagnose` maps error codes and messages to the causes and fixes of the public guide ("Migrating data between
instances across Tencent accounts", FAQs) plus the common operational ones; `is_transient` says which errors
are worth retrying later without a person; `check_fix` gives the fix for a failed DTS verification step.
"""

from __future__ import annotations

import re

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.i18n import N_, _
from core.steps import Diagnosis

CHECK_ITEM_OVERVIEW = "https://intl.cloud.tencent.com/document/product/571/42551"

_TRANSIENT_CODES = frozenset({"ClientNetworkError", "ServerNetworkError", "InternalError", "ResourceUnavailable"})
FAQ_CODES = frozenset({"InternalError.GetRoleError", "InternalError.InternalInnerCommonError",
                       "InternalError.IllegalRole"})
"""InternalError sub-codes that carry a known meaning (the guide's FAQ 1 and 2, STS's illegal role): a person
must change something, so they are not retried."""
_ROLE_NOT_FOUND = (
    N_("The Cross-Account ID (the root account ID of the source database) or the Cross-Account Role Name "
    "is not correctly configured: no such role in the source account."),
    N_("Check the source root UIN and the role name (the role created in the source account); "
    "fix the request's source_account or role_name and retry."),
)
ASSUME_ROLE_ERRORS: dict[str, tuple[str, str]] = {
    "ResourceNotFound.RoleNotFound": _ROLE_NOT_FOUND,
    "InternalError.GetRoleError": _ROLE_NOT_FOUND,
    "InternalError.IllegalRole": (
        N_("STS refuses `{arn}` as a role to assume (illegal role): it is not a role for a Tencent Cloud account "
        "(for example a service role), or its role entity was changed."),
        N_("In the source account's CAM console, make `{arn}` a role whose entity is the target root account "
        "(guide steps 3-4: Tencent Cloud Account, Other root account), or choose another role_name; then retry."),
    ),
    "InvalidParameter.OverTimeError": (
        N_("The role's maximum session duration is shorter than the temporary credentials dtsbot asks for."),
        N_("Raise the maximum session duration of `{arn}` to at least 2 hours in the source CAM console, then "
        "retry."),
    ),
    "InvalidParameter.AccountNotAvaliable": (
        N_("The source account in the role ARN does not exist or is not available."),
        N_("Check the source root UIN of the request (source_account in app.yaml), then retry."),
    ),
}
"""AssumeRole's documented errors (SDK sts/v20180813 errorcodes.py) with the guide's diagnosis where it has one;
`UnauthorizedOperation` and `AuthFailure.*` are diagnosed by `diagnose` (FAQ 3, keys)."""
_ROLE_CODES = frozenset({"ResourceNotFound.RoleNotFound", "InternalError.GetRoleError",
                         "InternalError.IllegalRole"})
"""Codes that name a role problem whichever call answered them."""
_RESOURCE = re.compile(r"resource \(([^)]+)\)")


def is_transient(error: TencentCloudSDKException) -> bool:
    """Whether retrying later (with backoff) may succeed without anyone changing anything."""
    code = str(error.get_code() or "")
    if code in FAQ_CODES or "role not exist" in str(error.get_message() or "").lower():
        return False
    return code.startswith(("RequestLimitExceeded", "InternalError.")) or code in _TRANSIENT_CODES


def _text(error: TencentCloudSDKException) -> tuple[str, str]:
    return str(error.get_code() or ""), str(error.get_message() or "")


def diagnose(error: TencentCloudSDKException, step: str, *, executor: str | None = None,
             role: str | None = None) -> Diagnosis:
    """What happened in `step`, why, and the fix, with the cloud RequestId; `executor` refines FAQ 3.

    `role`: the role ARN when the error answered STS AssumeRole of that role (its codes then read as
    `ASSUME_ROLE_ERRORS`, and a bare `UnauthorizedOperation` as the guide's FAQ 3)."""
    code, message = _text(error)
    what = f"{step}: {message} [{code}]" if message else f"{step}: {code}"
    lowered = message.lower()

    def found(why: str, fix: str) -> Diagnosis:
        return Diagnosis(code=code, what=what, why=why, fix=fix, request_id=error.get_request_id() or None)

    if code in ASSUME_ROLE_ERRORS and (role or code in _ROLE_CODES):
        why, fix = ASSUME_ROLE_ERRORS[code]
        arn = role or _("the source role")
        return found(_(why, arn=arn), _(fix, arn=arn))
    if "role not exist" in lowered:
        return found(*(_(text) for text in _ROLE_NOT_FOUND))
    if code == "InternalError.InternalInnerCommonError":
        return found(
            _("The policy of the Tencent Cloud service to which the source database belongs hasn't been granted "
              "to the role."),
            _("Attach the read-only and list policies to the role in the source account (QcloudDTSReadOnlyAccess, "
              "QcloudCDBReadOnlyAccess and the engine's read-only policy), then retry."),
        )
    denied = code.startswith("AuthFailure.UnauthorizedOperation") or code == "UnauthorizedOperation"
    if denied and ("sts:assumerole" in lowered or role):
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
    if code.startswith("AuthFailure.UnauthorizedOperation") or code == "UnauthorizedOperation":
        return found(
            _("The configured keys may not perform this operation."),
            _("Use the account's root keys, or attach the needed policy (e.g. QcloudCamFullAccess, "
              "QcloudDTSFullAccess) to the key's sub-account."),
        )
    if code.startswith("AuthFailure") and role:
        return found(
            _("STS rejected the API keys of the identity that assumes the role (the target root account, or the "
              "executor sub-account)."),
            _("Check the target account's `credentials` (or the executor's keys) in app.yaml, then retry."),
        )
    if code.startswith("AuthFailure"):
        return found(
            _("Tencent Cloud rejected the configured API keys."),
            _("Check `accounts[].credentials` (or the executor's keys) in app.yaml."),
        )
    if code.startswith("RequestLimitExceeded"):
        return found(
            _("Tencent Cloud's request rate limit for this account was exceeded, repeatedly."),
            _("Wait a minute and retry; if other tools share the account's keys, spread their calls."),
        )
    if "notenoughmoney" in code.lower().replace("_", "") or "balance" in lowered:
        return found(
            _("The target account's balance is insufficient to buy the DTS task."),
            _("Top up the target account, then retry."),
        )
    if "instancenotfound" in code.lower() or ("instance" in lowered and "not found" in lowered):
        return found(
            _("The database instance does not exist in that account and region."),
            _("Check the instance ID and region in the request (source_instance / target_instance)."),
        )
    if "statusinconflict" in code.lower() or ("status" in lowered and "conflict" in lowered):
        return found(
            _("The DTS task is in a status that does not allow this operation."),
            _("Look at the task in the DTS console; wait for the running operation to end, then retry."),
        )
    if code.startswith("ResourceNotFound") or "notexist" in code.lower():
        return found(
            _("A resource this step relies on no longer exists."),
            _("Check that the role, policy or DTS task was not deleted by hand; retry the request from the start."),
        )
    return found(
        _("Tencent Cloud refused the call."),
        _("Read the message and the RequestId above; fix the cause and retry, or open a ticket quoting the "
          "RequestId."),
    )


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

"""Every Tencent Cloud error code the bot can meet, with its decision: retry, re-read, diagnose or fail.

The codes are those of the installed SDK's `errorcodes.py` for DTS (v20211206), CAM (v20190116) and STS
(v20180813), Tencent's common error codes ("公共错误码", the same list on every API 3.0 product's error-code
page, e.g. https://cloud.tencent.com/document/api/571/82085) and the codes the SDK raises itself
(`ClientNetworkError`, ...). A row is keyed by one code, or by `Prefix.*` where every code under the prefix
means the same to the bot (a parameter the bot sent was refused, the keys were refused, a rate limit); the
classes where one code can mean something else entirely (InternalError, FailedOperation, OperationDenied,
LimitExceeded, ResourceNotFound) have one row per code, so a new code there fails the drift test
(tests/core/test_error_code_drift.py) instead of slipping into a neighbour's decision.

Codes that only APIs the bot never calls answer (CAM's user groups, MFA, identity providers, ...) are decided
too: FAIL, with Tencent's message and the RequestId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.i18n import N_


class Decision(StrEnum):
    RETRY = "retry"  # transient: the step runs again later with backoff; no person needed
    REREAD = "reread"  # the task changed state under the call: the step runs again, reads the state, decides
    DIAGNOSE = "diagnose"  # a person must act: what happened, why, the fix
    FAIL = "fail"  # refused for a reason the bot cannot explain better than Tencent's message and RequestId


@dataclass(frozen=True)
class ErrorRow:
    """A code's decision and, for a diagnosis, why and the fix (`N_` msgids; `{target}` (the target account with
    its UIN) and `{arn}` (the source role) are filled in); `reach`: the side whose approvers must act (named in
    the thread and sent a direct message), None when the notice in the thread is enough."""

    decision: Decision
    why: str = ""
    fix: str = ""
    reach: str | None = None


D = Decision
GENERIC = ErrorRow(D.FAIL, N_("Tencent Cloud refused the call."),
                   N_("Read the message and the RequestId above; fix the cause and retry, or open a ticket quoting "
                      "the RequestId."))
"""Decided FAIL: the message Tencent gave is the best explanation there is."""
PARAMETER = ErrorRow(D.FAIL, N_("Tencent Cloud refused a parameter of the call (the message names it)."),
                     N_("Check the request's fields named in the message; if they are right, this is a dtsbot bug: "
                        "open an issue quoting the message and the RequestId."))
TRANSIENT = ErrorRow(D.RETRY, N_("Tencent Cloud had a temporary problem (internal or network error), repeatedly."),
                     N_("Wait a few minutes and retry; if it keeps failing, open a ticket quoting the RequestId."))
RATE_LIMITED = ErrorRow(D.RETRY, N_("Tencent Cloud's request rate limit for this account was exceeded, "
                                    "repeatedly."),
                        N_("Wait a minute and retry; if other tools share the account's keys, spread their calls."))
CONFLICT = ErrorRow(D.REREAD, N_("The DTS task is in a status that does not allow this operation."),
                    N_("Look at the task in the DTS console; wait for the running operation to end, then retry."))
KEYS = ErrorRow(D.DIAGNOSE, N_("Tencent Cloud rejected the configured API keys."),
                N_("Check `accounts[].credentials` (or the executor's keys) in app.yaml."))
DENIED = ErrorRow(D.DIAGNOSE, N_("The configured keys may not perform this operation."),
                  N_("Use the account's root keys, or attach the needed policy (e.g. QcloudCamFullAccess, "
                     "QcloudDTSFullAccess) to the key's sub-account."))
GONE = ErrorRow(D.DIAGNOSE, N_("A resource this step relies on no longer exists."),
                N_("Check that the role, policy or DTS task was not deleted by hand; retry the request from the "
                   "start."))
ROLE_NOT_FOUND = ErrorRow(
    D.DIAGNOSE,
    N_("The Cross-Account ID (the root account ID of the source database) or the Cross-Account Role Name "
       "is not correctly configured: no such role in the source account."),
    N_("Check the source root UIN and the role name (the role created in the source account); "
       "fix the request's source_account or role_name and retry."))
MISSING_POLICIES = ErrorRow(
    D.DIAGNOSE,
    N_("The policy of the Tencent Cloud service to which the source database belongs hasn't been granted "
       "to the role."),
    N_("Attach the read-only and list policies to the role in the source account (QcloudDTSReadOnlyAccess, "
       "QcloudCDBReadOnlyAccess and the engine's read-only policy), then retry."))
NO_BALANCE = ErrorRow(
    D.DIAGNOSE,
    N_("The balance of {target} is too low to pay for the DTS task."),
    N_("An owner of {target} tops up that account (Billing Center → Top up), then clicks *Retry*; nothing was "
       "bought."),
    reach="target")
NO_EXECUTOR = ErrorRow(D.DIAGNOSE, N_("The executor sub-account does not exist in the target account."),
                       N_("Check `executor_uin` of the target account in app.yaml and the request's executor."))
QUOTA = ErrorRow(D.DIAGNOSE, N_("A quota of the account was reached (the message says which)."),
                 N_("Remove what is no longer used, or ask Tencent Cloud for a higher quota, then retry."))

ROWS: dict[str, ErrorRow] = {
    # -- the SDK's own codes and Tencent's common error codes ----------------------------------------
    "ClientNetworkError": TRANSIENT, "ServerNetworkError": TRANSIENT,
    "ClientError": PARAMETER, "ClientError.MetadataError": KEYS, "ClientParamsError": PARAMETER,
    "ClientSideError": KEYS, "InvalidCredential": KEYS,
    "ActionOffline": GENERIC, "DryRunOperation": GENERIC, "FailedOperation": GENERIC, "InternalError": TRANSIENT,
    "InvalidAction": GENERIC, "InvalidRequest": PARAMETER,
    "IpInBlacklist": ErrorRow(D.DIAGNOSE, N_("Tencent Cloud refuses calls from the bot's IP address (blacklisted)."),
                              N_("Run the bot from another address, or ask Tencent Cloud why the address is "
                                 "blocked.")),
    "IpNotInWhitelist": ErrorRow(D.DIAGNOSE, N_("The API keys accept calls only from listed IP addresses, and the "
                                                "bot's is not one of them."),
                                 N_("Add the bot's outgoing IP address to the key's allowed IPs in the CAM console, "
                                    "then retry.")),
    "LimitExceeded": QUOTA, "NoSuchProduct": GENERIC, "NoSuchVersion": GENERIC,
    "RequestLimitExceeded": RATE_LIMITED, "RequestLimitExceeded.*": RATE_LIMITED,
    "RequestSizeLimitExceeded": PARAMETER, "ResponseSizeLimitExceeded": PARAMETER,
    "ResourceInUse": CONFLICT, "ResourceInsufficient": TRANSIENT, "ResourceNotFound": GONE,
    "ResourceUnavailable": TRANSIENT, "ServiceUnavailable": TRANSIENT, "UnauthorizedOperation": DENIED,
    "UnsupportedOperation": GENERIC, "UnsupportedProtocol": PARAMETER,
    "UnsupportedRegion": ErrorRow(D.DIAGNOSE, N_("The service is not offered in the request's region."),
                                  N_("Check source_region and target_region in the request.")),
    "InvalidParameter": PARAMETER, "InvalidParameter.*": PARAMETER,
    "InvalidParameterValue": PARAMETER, "InvalidParameterValue.*": PARAMETER,
    "MissingParameter": PARAMETER, "MissingParameter.*": PARAMETER,
    "UnknownParameter": PARAMETER, "UnknownParameter.*": PARAMETER,
    "AuthFailure": KEYS, "AuthFailure.*": KEYS,
    "AuthFailure.SignatureExpire": ErrorRow(
        D.DIAGNOSE, N_("Tencent Cloud says the request's signature expired: the bot host's clock is more than five "
                       "minutes off."),
        N_("Synchronise the clock of the host running dtsbot (NTP), then retry.")),
    "AuthFailure.UnauthorizedOperation": DENIED, "AuthFailure.UnauthorizedOperationError": DENIED,
    "AuthFailure.AuthorizedOperationDenyError": DENIED, "AuthFailure.MFAFailure": GENERIC,

    # -- DTS v20211206 --------------------------------------------------------------------------------
    "DryRunOperation.DryRunOperationError": GENERIC,
    "FailedOperation.FailedOperationError": GENERIC, "FailedOperation.NotAllowOperation": GENERIC,
    "FailedOperation.StartJobFailed": ErrorRow(
        D.DIAGNOSE, N_("DTS could not start the task."),
        N_("Look at the task in the DTS console (its verification and the message above), then retry.")),
    "FailedOperation.StatusInConflict": CONFLICT, "FailedOperation.StatusInConflictError": CONFLICT,
    "FailedOperation.UserNotAuthed": ErrorRow(
        D.DIAGNOSE, N_("{target} has not completed real-name verification, which DTS requires."),
        N_("An owner of {target} completes real-name verification in the Tencent Cloud console (Account "
           "Center), then clicks *Retry*."),
        reach="target"),
    "InternalError.AddTaskError": TRANSIENT, "InternalError.CeleryError": TRANSIENT,
    "InternalError.CgwSystemError": TRANSIENT, "InternalError.DatabaseError": TRANSIENT,
    "InternalError.DuplicateJob": ErrorRow(
        D.DIAGNOSE, N_("DTS reports a conflicting migration task (InternalError.DuplicateJob): another task already "
                       "works on these instances."),
        N_("In the DTS console of {target}, find the other task on the same source or target instance; stop it "
           "if it is not wanted (or let it finish), then retry.")),
    "InternalError.ExecHttpRequestError": TRANSIENT, "InternalError.InternalErrorError": TRANSIENT,
    "InternalError.InternalHttpServerError": TRANSIENT,
    "InternalError.InternalInnerCommonError": MISSING_POLICIES,
    "InternalError.InternalTradeError": TRANSIENT, "InternalError.LockError": TRANSIENT,
    "InternalError.NotEnoughMoneyError": NO_BALANCE,
    "InternalError.ParseBinlogError": ErrorRow(
        D.DIAGNOSE, N_("DTS could not parse the source instance's binlog."),
        N_("Check the source's binlog settings (binlog_format=ROW, binlog_row_image=FULL) and that the binlog "
           "DTS needs was not purged; then retry, or open a ticket with Tencent Cloud quoting the RequestId.")),
    "InternalError.ProtocolError": TRANSIENT, "InternalError.UndefinedError": TRANSIENT,
    "InternalError.UnknownError": TRANSIENT,
    "InvalidParameter.InstanceNotFound": ErrorRow(
        D.DIAGNOSE, N_("The database instance does not exist in that account and region."),
        N_("Check the instance ID and region in the request (source_instance / target_instance).")),
    "LimitExceeded.LimitExceededError": QUOTA,
    "LimitExceeded.MaxUnusedJobs": ErrorRow(
        D.DIAGNOSE, N_("{target} has too many idle DTS tasks (bought and never started), so DTS sells it no new "
                       "one."),
        N_("An owner of {target} isolates and destroys the tasks not needed any more in the DTS console "
           "(status created, checkPass or checkNotPass; a dtsbot task carries the tag dtsbot-request with its "
           "request id: cancel that request instead), then clicks *Retry*."),
        reach="target"),
    "OperationDenied": GENERIC, "OperationDenied.BizOperationDeniedError": GENERIC,
    "OperationDenied.JobOperationDeniedError": GENERIC, "OperationDenied.NotEnoughMoneyError": NO_BALANCE,
    "OperationDenied.OperationDenied": GENERIC, "OperationDenied.OperationDeniedError": GENERIC,
    "RequestLimitExceeded.RequestLimitExceededError": RATE_LIMITED,
    "ResourceInUse.ResourceInUseError": CONFLICT, "ResourceInsufficient.ResourceInsufficientError": TRANSIENT,
    "ResourceNotFound.BizResourceNotFoundError": GONE,
    "ResourceNotFound.JobNotExist": ErrorRow(
        D.DIAGNOSE, N_("The request's DTS task no longer exists in {target}: it was deleted outside the bot."),
        N_("Cancel this request (its access is revoked) and open a new one.")),
    "ResourceNotFound.ResourceNotFound": GONE, "ResourceNotFound.ResourceNotFoundError": GONE,
    "ResourceUnavailable.ResourceUnavailableError": TRANSIENT,
    "ResourcesSoldOut.ResourcesSoldOutError": ErrorRow(
        D.DIAGNOSE, N_("DTS has sold out the task size dtsbot buys in this region for now."),
        N_("Retry later, or migrate in another region.")),
    "UnauthorizedOperation.NotEnoughPrivileges": DENIED, "UnauthorizedOperation.PermissionDenied": DENIED,
    "UnauthorizedOperation.UnauthorizedOperationError": DENIED,
    "UnsupportedOperation.IntraNetUserNotTaggedError": GENERIC,
    "UnsupportedOperation.IntraNetUserNotTaggedForSyncJobError": GENERIC,
    "UnsupportedOperation.UnsupportedOperationError": GENERIC,

    # -- CAM v20190116: the bot calls the role, policy and attachment APIs --------------------------
    "FailedOperation.OrganizationPolicyOperateError": ErrorRow(
        D.DIAGNOSE, N_("A policy of the account's organisation (Tencent Cloud Organization) forbids this CAM "
                       "change."),
        N_("Ask the organisation's administrator to allow it, or let the account's owner make the change by hand "
           "(access: guided).")),
    "FailedOperation.PolicyFull": QUOTA, "FailedOperation.PolicyNameInUse": GENERIC,
    "FailedOperation.TagResourceFailed": TRANSIENT, "FailedOperation.UnTagResourceFailed": TRANSIENT,
    "InternalError.SystemError": TRANSIENT,
    "InvalidParameter.AttachmentFull": QUOTA, "InvalidParameter.RoleFull": QUOTA,
    "InvalidParameter.UserNotAuth": ErrorRow(
        D.DIAGNOSE, N_("The account has not completed real-name verification, which CAM requires for this."),
        N_("The account's owner completes real-name verification in the Tencent Cloud console (Account Center), "
           "then retries.")),
    "LimitExceeded.Uin": RATE_LIMITED,
    "ResourceNotFound.PolicyIdNotFound": GONE,
    "ResourceNotFound.UserNotExist": NO_EXECUTOR, "ResourceNotFound.UserNotExists": NO_EXECUTOR,
    # CAM codes answered only by APIs the bot never calls (users, groups, keys, MFA, identity providers, ...)
    **{code: GENERIC for code in (
        "FailedOperation.Accesskey", "FailedOperation.AssistApproverFull", "FailedOperation.BuildAuthToken",
        "FailedOperation.CICIdentityForbidden", "FailedOperation.ExistHighRiskOperations",
        "FailedOperation.FlowAuthIllegal", "FailedOperation.ForbidAdd", "FailedOperation.GetUserAreaError",
        "FailedOperation.PolicyVersionAlreadyDefault", "FailedOperation.PolicyVersionFull",
        "FailedOperation.Unmodifiable", "FailedOperation.UserNotBindPhone", "FailedOperation.UserNotBindWechat",
        "FailedOperation.UserUnbindNoPermission", "LimitExceeded.IdentityFull", "OperationDenied.AccessKeyOverLimit",
        "OperationDenied.CicPolicyOperationDenied", "OperationDenied.HaveKeys", "OperationDenied.PolicyTagConflict",
        "OperationDenied.SubUin", "OperationDenied.UinNotMatch", "ResourceNotFound.DataFlowAuthClose",
        "ResourceNotFound.GroupNotExist", "ResourceNotFound.IdentityNotExist", "ResourceNotFound.NotFound",
        "ResourceNotFound.SecretNotExist", "ResourceUnavailable.FlowAuthSecet", "UnauthorizedOperation.DeleteApiKey")},

    # -- STS v20180813 (AssumeRole, GetCallerIdentity) -----------------------------------------------
    "AuthFailure.AccessKeyIllegal": KEYS,
    "FailedOperation.CheckMFAError": GENERIC, "FailedOperation.MFATypeNotSupported": GENERIC,
    "FailedOperation.TempKeyNotAllowed": ErrorRow(
        D.DIAGNOSE, N_("STS does not take temporary keys for this call."),
        N_("Give the account permanent API keys (`accounts[].credentials`) instead of a role's or CVM's "
           "temporary ones.")),
    "InternalError.DbError": TRANSIENT, "InternalError.EncryptError": TRANSIENT,
    "InternalError.GetAppIdError": TRANSIENT, "InternalError.GetSeedTokenError": TRANSIENT,
    "InternalError.GetRoleError": ROLE_NOT_FOUND,
    "InternalError.IllegalRole": ErrorRow(
        D.DIAGNOSE, N_("STS refuses `{arn}` as a role to assume (illegal role): it is not a role for a Tencent "
                       "Cloud account (for example a service role), or its role entity was changed."),
        N_("In the source account's CAM console, make `{arn}` a role whose entity is the target root account "
           "(guide steps 3-4: Tencent Cloud Account, Other root account), or choose another role_name; then "
           "retry.")),
    "InternalError.PbSerializeError": TRANSIENT,
    "InvalidParameter.AccountNotAvaliable": ErrorRow(
        D.DIAGNOSE, N_("The source account in the role ARN does not exist or is not available."),
        N_("Check the source root UIN of the request (source_account in app.yaml), then retry.")),
    "InvalidParameter.OverLimit": RATE_LIMITED,
    "InvalidParameter.OverTimeError": ErrorRow(
        D.DIAGNOSE, N_("The role's maximum session duration is shorter than the temporary credentials dtsbot asks "
                       "for."),
        N_("Raise the maximum session duration of `{arn}` to at least 2 hours in the source CAM console, then "
           "retry.")),
    "ResourceNotFound.RoleNotFound": ROLE_NOT_FOUND,
}
"""Every code the bot can meet (exactly, or under a `Prefix.*` row) → its decision."""

UNLISTED = GENERIC
"""A code no row decides (Tencent added one after this table): not retried, Tencent's message shown."""


def row_key(code: str, rows: Mapping[str, ErrorRow] = ROWS) -> str | None:
    """The key of the row that decides `code`: the code itself, else the longest `Prefix.*` above it, else None."""
    if code in rows:
        return code
    parts = code.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut]) + ".*"
        if prefix in rows:
            return prefix
    return None


def row_for(code: str) -> ErrorRow:
    """The decision for `code` (UNLISTED when no row decides it)."""
    key = row_key(code)
    return ROWS[key] if key is not None else UNLISTED

"""*Role deleted — check* (guided mode): the bot proves from the target side that the owner's role is gone.

The bot never reads or changes the guided source account. It asks STS for the role as the target *root* — the
principal the role trusts — with the request's external ID: whether the bot's own `sts:AssumeRole` grant to a
sub-account still exists makes no difference to that answer, so the grant the bot already removed cannot pass for
a deleted role. Only STS saying the role does not exist (core.role_gone) is proof; any other answer says what
happened and that nothing is proved.
"""

from __future__ import annotations

from dataclasses import dataclass

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import guided, policies
from core.cloud import CloudClients, CloudConfigError
from core.diagnosis import is_transient
from core.i18n import N_, _
from core.role_gone import proves_role_gone
from storage.models import MigrationRequest

ROOT = "root"


@dataclass(frozen=True)
class RoleCheck:
    """`closed`: True when STS said the role does not exist, False when it can still be assumed, None when the
    answer proves neither. `code` and `request_id`: STS's answer (the proof, when closed)."""

    closed: bool | None
    text: str
    code: str | None = None
    request_id: str | None = None


def check_role_deleted(request: MigrationRequest, clients: CloudClients) -> RoleCheck:
    """AssumeRole on the request's role as the target root, afresh (never a cached session)."""
    arn = policies.role_arn(request.source_uin, request.role_name)
    names = {"arn": arn, "account": request.target_account}
    try:
        clients.role_session(request.target_account, ROOT, request.source_uin, request.role_name,
                             request.external_id, f"dtsbot-{request.id}", renew=True)
    except TencentCloudSDKException as error:
        code, request_id = str(error.get_code()), error.get_request_id() or "-"
        if proves_role_gone(code, str(error.get_message())):
            return RoleCheck(True, _(_CLOSED, code=code, request_id=request_id, **names), code, request_id)
        why = _(_BUSY) if is_transient(error) else _(_NO_PROOF)
        return RoleCheck(None, _(_ANSWERED, code=code, request_id=request_id, why=why, **names), code, request_id)
    except CloudConfigError as error:
        return RoleCheck(None, _("Could not check `{arn}`: {error}. Nothing is proved: the role may still exist.",
                                 arn=arn, error=error))
    return RoleCheck(False, _("`{arn}` can still be assumed by {account} root: the role is not deleted.", **names)
                     + "\n" + guided.render(guided.source_role_deletion(request)))


_CLOSED = N_("Checked: AssumeRole on `{arn}` by {account} root now answers {code} (the role does not exist; "
             "RequestId {request_id}). The cross-account access is closed.")
_ANSWERED = N_("AssumeRole on `{arn}` by {account} root answered {code} (RequestId {request_id}): {why} Nothing is "
               "proved: the role may still exist. Press *Role deleted — check* again once it is deleted.")
_BUSY = N_("STS could not answer now.")
_NO_PROOF = N_("that is not \"the role does not exist\" (a denial means the role may exist and trust someone else, "
               "or the target's keys may not assume roles; refused keys are the target's own).")

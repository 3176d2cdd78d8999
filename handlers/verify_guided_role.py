"""*Role deleted — check* (guided mode): the bot proves from the target side that the owner's role is gone.

The bot never reads or changes the guided source account; it tries what the role allowed — STS AssumeRole as
the request's executor with its external ID — and that must now fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import guided, policies
from core.cloud import CloudClients, CloudConfigError
from core.diagnosis import is_transient
from core.i18n import N_, _
from handlers.step import AssumeRoleFailed, role_session
from storage.models import MigrationRequest


@dataclass(frozen=True)
class RoleCheck:
    """`closed`: True when AssumeRole failed for good, False when it still works, None when it could not tell."""

    closed: bool | None
    text: str


def check_role_deleted(request: MigrationRequest, clients: CloudClients) -> RoleCheck:
    """AssumeRole on the request's role as its executor: closed when the cloud refuses it (not transiently)."""
    arn = policies.role_arn(request.source_uin, request.role_name)
    try:
        role_session(request, clients)
    except AssumeRoleFailed as refused:  # refused for good (handlers.step wraps the SDK's error)
        return RoleCheck(True, _(_CLOSED, arn=arn, account=request.target_account, code=refused.error.get_code()))
    except TencentCloudSDKException as error:
        if is_transient(error):
            return RoleCheck(None, _("Could not check `{arn}` now ({code}); press again in a minute.", arn=arn,
                                     code=error.get_code()))
        return RoleCheck(True, _(_CLOSED, arn=arn, account=request.target_account, code=error.get_code()))
    except CloudConfigError as error:
        return RoleCheck(None, _("Could not check `{arn}`: {error}", arn=arn, error=error))
    return RoleCheck(False, _("`{arn}` can still be assumed by {account}: the role is not deleted.", arn=arn,
                              account=request.target_account)
                     + "\n" + guided.render(guided.source_role_deletion(request)))


_CLOSED = N_("Checked: AssumeRole on `{arn}` by {account} now fails ({code}). The cross-account access is closed.")

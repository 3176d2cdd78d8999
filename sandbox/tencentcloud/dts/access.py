"""How DTS reaches a source database in another account: a CAM role there, assumed with STS credentials.

This is where the guide's FAQ errors come from: a role that does not exist in the named account
(`InternalError.GetRoleError`, "role not exist"), and a role without the source service's read-only
policies (`InternalError.InternalInnerCommonError` when listing the instances).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.tencentcloud.world import Session, World

BASE_POLICIES = ("QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess")
ENGINE_POLICIES = {
    "sqlserver": "QcloudSQLServerReadOnlyAccess",
    "mongodb": "QcloudMongoDBReadOnlyAccess",
    "postgresql": "QcloudPostgreSQLReadOnlyAccess",
    "redis": "QcloudRedisReadOnlyAccess",
    "tendis": "QcloudRedisReadOnlyAccess",
}
ROLE_NAME = re.compile(r"[a-zA-Z0-9\-_]+")


def required_policies(database_type: str) -> list[str]:
    """Preset policies a cross-account role needs so DTS can list and read a source of this engine."""
    extra = ENGINE_POLICIES.get(database_type)
    return [*BASE_POLICIES, extra] if extra else list(BASE_POLICIES)


def invalid(message: str) -> TencentCloudError:
    return TencentCloudError("InvalidParameterValue.InvalidParameterValue", message)


def role_session(world: World, tmp_secret_id: str, tmp_secret_key: str, tmp_token: str) -> Session:
    """The live STS session behind temporary credentials passed as parameters (TmpSecretId/Key/Token)."""
    if not (tmp_secret_id and tmp_secret_key and tmp_token):
        raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                "TmpSecretId, TmpSecretKey and TmpToken are required when AccountMode is other.")
    session = world.session(tmp_secret_id, tmp_token)
    if session is None or session.tmp_secret_key != tmp_secret_key:
        raise invalid("The temporary credentials (TmpSecretId/TmpSecretKey/TmpToken) are invalid or expired; "
                      "call sts:AssumeRole on the source account's role again.")
    return session


def role_not_exist(account: str, role: str) -> TencentCloudError:
    """FAQ 1 as the DTS console quotes it: "role not exist [InternalError.GetRoleError]"."""
    return TencentCloudError("InternalError.GetRoleError", f"role not exist (account {account}, role {role})")


def require_role(world: World, session: Session) -> None:
    """The role the temporary credentials act as must still exist (a role deleted since: FAQ 1)."""
    if world.cam(session.role_owner_uin).find_role(session.role_name) is None:
        raise role_not_exist(session.role_owner_uin, session.role_name)


def require_read_policies(world: World, session: Session, database_type: str) -> None:
    """FAQ 2: without the source service's read-only policies DTS cannot read the source's instances."""
    attached = world.role_policy_names(session.role_owner_uin, session.role_name)
    missing = [name for name in required_policies(database_type) if name not in attached]
    if missing:
        raise TencentCloudError(
            "InternalError.InternalInnerCommonError",
            f"InternalInnerCommonError: failed to get the {database_type} instances of account "
            f"{session.role_owner_uin} with role {session.role_name}: UnauthorizedOperation "
            f"(role lacks {', '.join(missing)})",
        )


def cross_account_owner(world: World, info: dict[str, Any], database_type: str) -> str:
    """Validate `DBInfo` with AccountMode=other and return the source root UIN whose instance it names."""
    account, role = str(info.get("Account") or ""), str(info.get("AccountRole") or "")
    if not account or not role:
        raise TencentCloudError("InvalidParameter.InvalidParameterError",
                                "Account and AccountRole are required when AccountMode is other.")
    if not ROLE_NAME.fullmatch(role):
        raise invalid(f"AccountRole `{role}` is invalid: only [a-zA-Z0-9-_]+ is allowed.")
    if account not in world.accounts or world.cam(account).find_role(role) is None:
        raise role_not_exist(account, role)
    session = role_session(world, str(info.get("TmpSecretId") or ""), str(info.get("TmpSecretKey") or ""),
                           str(info.get("TmpToken") or ""))
    if (session.role_owner_uin, session.role_name) != (account, role):
        raise invalid(f"The temporary credentials are for role {session.role_name} of account "
                      f"{session.role_owner_uin}, not role {role} of account {account}.")
    require_read_policies(world, session, database_type)
    return account

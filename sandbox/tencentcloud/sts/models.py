"""STS AssumeRole: who may assume which role, and the temporary credentials it issues.

The checks, in the order the service makes them: a sub-account caller needs a policy allowing
`name/sts:AssumeRole` on the role ARN (the guide's FAQ 3); the role must exist; the caller's root must be a
trusted principal of the role; the external ID must match the trust policy's condition; `DurationSeconds` must
not exceed the role's `SessionDuration`. The codes are STS's own (sts v20180813 errorcodes.py):
`ResourceNotFound.RoleNotFound` ("账号对应的角色不存在") for a missing role, `UnauthorizedOperation` ("未授权操作")
for a denied assume, with the wording the guide's FAQ 3 quotes; the DTS console's `InternalError.GetRoleError`
"role not exist" (FAQ 1) is DTS's answer on its own path (dts/access.py).
"""

from __future__ import annotations

import re
import secrets
import string

from sandbox.tencentcloud.cam import documents
from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.tencentcloud.world import Caller, Session, World

ROLE_ARN = re.compile(r"qcs::cam::uin/(?P<uin>\d+):roleName/(?P<name>[\w+=,.@-]{1,128})")
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,128}")
DEFAULT_DURATION, MAX_DURATION = 7200, 43200
_ALNUM = string.ascii_letters + string.digits


def not_authorized(arn: str) -> TencentCloudError:
    """STS's answer when the caller may not assume `arn`: `UnauthorizedOperation`, in the guide's FAQ 3 wording."""
    return TencentCloudError("UnauthorizedOperation", f"you are not authorized to perform operation "
                                                      f"(sts:AssumeRole)\nresource ({arn}) has no permission")


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def assume_role(world: World, caller: Caller, arn: str, session_name: str, duration: int | None,
                external_id: str | None) -> Session:
    """Check that `caller` may assume role `arn` and issue its temporary credentials."""
    m = ROLE_ARN.fullmatch(arn)
    if m is None:
        raise TencentCloudError("InvalidParameter.ParamError", f"RoleArn {arn} is invalid")
    if not SESSION_NAME.fullmatch(session_name):
        raise TencentCloudError("InvalidParameter.ParamError", f"RoleSessionName {session_name!r} is invalid")
    if not caller.is_root and caller.session is None:
        grants = [p.document for p, _ in world.cam(caller.owner_uin).user_policies_of(caller.uin)]
        if not documents.allows(grants, documents.ASSUME_ROLE, arn):
            raise not_authorized(arn)
    role = world.cam(m["uin"]).find_role(m["name"]) if m["uin"] in world.accounts else None
    if role is None:
        raise TencentCloudError("ResourceNotFound.RoleNotFound", f"the role of the account does not exist: {arn}")
    trusted, external_ids = documents.trust(role.document, caller.owner_uin, caller.uin)
    if not trusted or (external_ids and external_id not in external_ids):
        raise not_authorized(arn)
    duration = duration or DEFAULT_DURATION
    if duration > min(MAX_DURATION, role.session_duration or MAX_DURATION):
        raise TencentCloudError("InvalidParameter.OverTimeError",
                                f"DurationSeconds {duration} exceeds the role's maximum session duration")
    session = Session(
        tmp_secret_id="AKID" + _random(32), tmp_secret_key=_random(40), token=_random(120),
        expires_at=world.clock.now() + duration, role_owner_uin=m["uin"], role_name=role.name,
        assumed_by_uin=caller.uin, role_id=role.role_id, session_name=session_name,
    )
    world.add_session(session)
    return session

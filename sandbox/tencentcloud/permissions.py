"""CAM authorization of a read of a service other than CAM (MongoDB's and Redis' Describe actions): a root account
may read its own account; a sub-account or a role session only what its attached policies allow.

A role session is the source role's temporary credentials: it may do exactly what the role's policies allow
(the read-only presets allow `<service>:Describe*`, `Get*`, `List*`), which is how the bot reads a source
instance's topology in another account.
"""

from __future__ import annotations

from sandbox.tencentcloud.cam import documents
from sandbox.tencentcloud.exceptions import UnauthorizedOperation
from sandbox.tencentcloud.world import Caller, World


def authorize(world: World, caller: Caller, service: str, action: str, resource: str) -> None:
    """Raise CAM's denial unless `caller` may run `service:action` on `resource` in its own account."""
    if caller.is_root:
        return
    cam = world.cam(caller.owner_uin)
    if caller.session is not None:
        granted = [policy.document for policy in cam.role_policies(caller.session.role_name)]
    else:
        granted = [policy.document for policy, _ in cam.user_policies_of(caller.uin)]
    if not documents.allows(granted, f"{service}:{action}", resource):
        raise UnauthorizedOperation(f"you are not authorized to perform operation ({service}:{action})\n"
                                    f"resource ({resource}) has no permission")


def instance_resource(service: str, region: str, owner_uin: str, instance_id: str) -> str:
    """The six-part resource name CAM policies use for an instance, e.g. qcs::redis:ap-guangzhou:uin/1:instance/crs-1."""
    return f"qcs::{service}:{region}:uin/{owner_uin}:instance/{instance_id}"

"""CAM state of one account: roles, custom policies, policy attachments to roles and sub-accounts.

Preset (Tencent-managed) policies are shared by every account and have fixed ids. No HTTP here: methods
take plain values and raise `TencentCloudError` with the real CAM codes.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.tencentcloud.exceptions import TencentCloudError

if TYPE_CHECKING:
    from sandbox.tencentcloud.clock import Clock

ROLE_NAME_RULE = re.compile(r"[\w+=,.@-]{1,128}")
MAX_SESSION_DURATION = 43200
"""CreateRole `SessionDuration`: "申请角色临时密钥的最长有效期限制(范围：0~43200)" (cam api.json)."""
DEFAULT_SESSION_DURATION = 7200
"""A role created without SessionDuration (or 0): the reference gives no default; the sandbox takes 2 hours."""
POLICY_NAME_RULE = re.compile(r"[\w+=,.@-]{1,128}")

PRESET_POLICIES: dict[str, int] = {
    "AdministratorAccess": 1,
    "QcloudCamFullAccess": 2,
    "QcloudDTSReadOnlyAccess": 160001,
    "QcloudCDBReadOnlyAccess": 160002,
    "QcloudSQLServerReadOnlyAccess": 160003,
    "QcloudMongoDBReadOnlyAccess": 160004,
    "QcloudPostgreSQLReadOnlyAccess": 160005,
    "QcloudRedisReadOnlyAccess": 160006,
    "QcloudMariaDBReadOnlyAccess": 160007,
    "QcloudTDSQLReadOnlyAccess": 160008,
    "QcloudMariaDBInnerReadOnlyAccess": 160009,
}
# preset policy -> the service whose read (or full) access it grants; "*" is every service
_PRESET_SCOPE = {
    "AdministratorAccess": "*", "QcloudCamFullAccess": "cam", "QcloudDTSReadOnlyAccess": "dts",
    "QcloudCDBReadOnlyAccess": "cdb", "QcloudSQLServerReadOnlyAccess": "sqlserver",
    "QcloudMongoDBReadOnlyAccess": "mongodb", "QcloudPostgreSQLReadOnlyAccess": "postgres",
    "QcloudRedisReadOnlyAccess": "redis", "QcloudMariaDBReadOnlyAccess": "mariadb",
    "QcloudTDSQLReadOnlyAccess": "dcdb", "QcloudMariaDBInnerReadOnlyAccess": "mariadb",
}


def _preset_document(name: str) -> str:
    scope = _PRESET_SCOPE[name]
    if scope == "*":
        actions = ["*"]
    elif name.endswith("FullAccess"):
        actions = [f"name/{scope}:*"]
    else:
        actions = [f"name/{scope}:Describe*", f"name/{scope}:Get*", f"name/{scope}:List*"]
    return json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": actions, "resource": ["*"]}]})

_ids = itertools.count(100_000_001)
_role_ids = itertools.count(4611686018427397921)


def fmt_time(ts: float) -> str:
    """CAM's time format (local time, seconds)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@dataclass
class Policy:
    policy_id: int
    name: str
    document: str
    description: str
    add_time: float
    preset: bool = False
    tags: list[dict[str, str]] = field(default_factory=list)  # CreatePolicy Tags, as GetPolicy returns them

    @property
    def type(self) -> int:
        """CAM's Type: 1 custom policy, 2 preset policy."""
        return 2 if self.preset else 1

    @property
    def add_time_text(self) -> str:
        return fmt_time(self.add_time)


PRESETS: dict[int, Policy] = {
    pid: Policy(pid, name, _preset_document(name), f"{name} (preset)", 0.0, preset=True)
    for name, pid in PRESET_POLICIES.items()
}


@dataclass
class Role:
    role_id: str
    name: str
    document: str
    description: str
    console_login: int
    session_duration: int
    add_time: float
    update_time: float
    attached: dict[int, float] = field(default_factory=dict)  # policy id -> attach time
    tags: list[dict[str, str]] = field(default_factory=list)  # CreateRole Tags, as RoleInfo.Tags returns them


class CamBackend:
    """Roles, custom policies and attachments of account `owner_uin`."""

    def __init__(self, owner_uin: str, clock: Clock) -> None:
        self.owner_uin = owner_uin
        self.clock = clock
        self.roles: dict[str, Role] = {}
        self.policies: dict[int, Policy] = {}
        self.user_policies: dict[str, dict[int, float]] = {}  # sub-account uin -> policy id -> attach time

    # roles
    def create_role(self, name: str, document: str, description: str = "", console_login: int = 0,
                    session_duration: int = DEFAULT_SESSION_DURATION, tags: list[dict[str, str]] | None = None) -> Role:
        if not ROLE_NAME_RULE.fullmatch(name):
            raise TencentCloudError("InvalidParameter.RoleNameError", f"RoleName {name!r} is invalid")
        if name in self.roles:
            raise TencentCloudError("InvalidParameter.RoleNameInUse", f"role name {name} in use")
        now = self.clock.now()
        role = Role(str(next(_role_ids)), name, document, description, console_login, session_duration,
                    now, now, tags=[dict(t) for t in tags or ()])
        self.roles[name] = role
        return role

    def get_role(self, name: str | None = None, role_id: str | None = None) -> Role:
        for role in self.roles.values():
            if (name is not None and role.name == name) or (role_id is not None and role.role_id == role_id):
                return role
        raise TencentCloudError("InvalidParameter.RoleNotExist", "role not exist")

    def find_role(self, name: str) -> Role | None:
        return self.roles.get(name)

    def delete_role(self, name: str | None = None, role_id: str | None = None) -> None:
        role = self.get_role(name, role_id)
        del self.roles[role.name]

    def update_trust_policy(self, document: str, name: str | None = None, role_id: str | None = None) -> None:
        role = self.get_role(name, role_id)
        role.document = document
        role.update_time = self.clock.now()

    def attach_role_policy(self, policy: Policy, role: Role) -> None:
        role.attached.setdefault(policy.policy_id, self.clock.now())

    def detach_role_policy(self, policy: Policy, role: Role) -> None:
        role.attached.pop(policy.policy_id, None)

    def role_policy_names(self, role_name: str) -> set[str]:
        return {policy.name for policy in self.role_policies(role_name)}

    def role_policies(self, role_name: str) -> list[Policy]:
        """The policies attached to role `role_name` (none when there is no such role)."""
        role = self.roles.get(role_name)
        if role is None:
            return []
        return [self.policy(pid) for pid in role.attached if self.has_policy(pid)]

    # policies
    def create_policy(self, name: str, document: str, description: str = "",
                      tags: list[dict[str, str]] | None = None) -> Policy:
        if not POLICY_NAME_RULE.fullmatch(name):
            raise TencentCloudError("InvalidParameter.PolicyNameError", f"PolicyName {name!r} is invalid")
        if name in PRESET_POLICIES or any(p.name == name for p in self.policies.values()):
            raise TencentCloudError("FailedOperation.PolicyNameInUse", f"policy name {name} in use")
        policy = Policy(next(_ids), name, document, description, self.clock.now(), tags=[dict(t) for t in tags or ()])
        self.policies[policy.policy_id] = policy
        return policy

    def has_policy(self, policy_id: int) -> bool:
        return policy_id in self.policies or policy_id in PRESETS

    def policy(self, policy_id: int) -> Policy:
        found = self.policies.get(policy_id) or PRESETS.get(policy_id)
        if found is None:
            raise TencentCloudError("ResourceNotFound.PolicyIdNotFound", f"policy id {policy_id} not found")
        return found

    def policy_by_name(self, name: str) -> Policy:
        if name in PRESET_POLICIES:
            return PRESETS[PRESET_POLICIES[name]]
        for p in self.policies.values():
            if p.name == name:
                return p
        raise TencentCloudError("InvalidParameter.PolicyIdNotExist", f"policy {name} not exist")

    def all_policies(self) -> list[Policy]:
        return sorted([*PRESETS.values(), *self.policies.values()], key=lambda p: p.policy_id)

    def delete_policy(self, policy_id: int) -> None:
        if policy_id in PRESETS:
            raise TencentCloudError("InvalidParameter.PolicyIdError", f"policy {policy_id} is a preset policy")
        if policy_id not in self.policies:
            raise TencentCloudError("ResourceNotFound.PolicyIdNotFound", f"policy id {policy_id} not found")
        del self.policies[policy_id]
        for role in self.roles.values():
            role.attached.pop(policy_id, None)
        for attached in self.user_policies.values():
            attached.pop(policy_id, None)

    # sub-account attachments
    def attach_user_policy(self, policy: Policy, uin: str) -> None:
        self.user_policies.setdefault(uin, {}).setdefault(policy.policy_id, self.clock.now())

    def detach_user_policy(self, policy: Policy, uin: str) -> None:
        self.user_policies.get(uin, {}).pop(policy.policy_id, None)

    def user_policies_of(self, uin: str) -> list[tuple[Policy, float]]:
        return [(self.policy(pid), at) for pid, at in self.user_policies.get(uin, {}).items()]

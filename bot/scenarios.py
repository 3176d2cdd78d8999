"""The demo's stories: the happy path and the guide's three FAQ failures, each made real in the sandbox world.

A failure scenario registers a sandbox hook that fires right before the preflight's STS AssumeRole, i.e. after
the bot created the role (and the sub-account grant) and before it proves the chain: an account owner changes
CAM by hand at exactly that moment, as people do. The bot's preflight then meets the real error and posts the
guide's diagnosis; `expect` is the text that diagnosis must contain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI lists the scenarios without loading the sandbox
    from sandbox.tencentcloud.server import TencentCloudSandbox

SOURCE_UIN, TARGET_UIN, EXECUTOR_UIN = "100000000001", "100000000002", "100000000021"
Narrate = Callable[[str, str], None]
"""`narrate(user, what they did)`: tells the transcript about a change made outside Slack."""


@dataclass(frozen=True)
class Scenario:
    title: str
    fields: str = ""
    """Extra inline fields of the /dts-migrate command (e.g. executor=...)."""
    expect: str = ""
    """Text the diagnosis in the thread must contain; empty: the migration must succeed."""
    change: Callable[[TencentCloudSandbox, Narrate, str], None] | None = None
    """What an owner does by hand right before the preflight's AssumeRole, to the request's role (by name)."""
    guided: bool = False
    """The source account is `access: guided` with no keys: its owner runs the steps the bot posts."""

    def arrange(self, cloud: TencentCloudSandbox, narrate: Narrate) -> None:
        """Register the scenario's hand-made change in the sandbox (nothing for the happy path)."""
        change = self.change
        if change is not None:
            cloud.hooks.before("AssumeRole", lambda params: change(cloud, narrate, _role_name(params)), service="sts")


def _role_name(assume_role: dict) -> str:
    """The role an AssumeRole is about, from its RoleArn (`qcs::cam::uin/<uin>:roleName/<name>`)."""
    return str(assume_role.get("RoleArn", "")).rpartition("roleName/")[2]


def rename_role(cloud: TencentCloudSandbox, narrate: Narrate, role_name: str) -> None:
    """FAQ 1: the source owner renames the role (CAM has no rename: a new DTS_role, the old one deleted)."""
    cam = cloud.world.cam(SOURCE_UIN)
    role = cam.get_role(role_name)
    renamed = cam.create_role("DTS_role", role.document, role.description)
    renamed.attached = dict(role.attached)
    cam.delete_role(role_name)
    narrate("U0SRCOWNER", f"(in the CAM console of shop-prod) re-creates role {role_name} as DTS_role and deletes "
                          f"{role_name}")


def detach_cdb_policy(cloud: TencentCloudSandbox, narrate: Narrate, role_name: str) -> None:
    """FAQ 2: the source owner detaches QcloudCDBReadOnlyAccess from the role."""
    cam = cloud.world.cam(SOURCE_UIN)
    cam.detach_role_policy(cam.policy_by_name("QcloudCDBReadOnlyAccess"), cam.get_role(role_name))
    narrate("U0SRCOWNER", f"(in the CAM console of shop-prod) detaches QcloudCDBReadOnlyAccess from {role_name}")


def drop_grant(cloud: TencentCloudSandbox, narrate: Narrate, _role_name: str) -> None:
    """FAQ 3: the target owner removes the sub-account's sts:AssumeRole grant."""
    cam = cloud.world.cam(TARGET_UIN)
    names: list[str] = []
    for policy, _attached_at in cam.user_policies_of(EXECUTOR_UIN):
        cam.detach_user_policy(policy, EXECUTOR_UIN)
        names.append(policy.name)
    narrate("U0TGTOWNER", f"(in the CAM console of analytics) detaches {', '.join(names) or 'its policies'} "
                          f"from sub-account {EXECUTOR_UIN}")


SCENARIOS: dict[str, Scenario] = {
    "happy": Scenario("a cross-account migration from request to completion"),
    "guided": Scenario("guided mode: the source owner keeps their keys and creates the role from the bot's steps",
                       guided=True),
    "wrong-role-name": Scenario(
        "FAQ 1: the role is renamed before the preflight (wrong Cross-Account Role Name)",
        expect="Cross-Account Role Name", change=rename_role),
    "missing-policy": Scenario(
        "FAQ 2: the role lost a read-only policy before the preflight",
        expect="InternalError.InternalInnerCommonError", change=detach_cdb_policy),
    "subaccount-no-assumerole": Scenario(
        f"FAQ 3: sub-account {EXECUTOR_UIN} executes the task without sts:AssumeRole",
        fields=f"executor={EXECUTOR_UIN}", expect="(sts:AssumeRole)", change=drop_grant),
}

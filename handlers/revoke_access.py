"""Close the cross-account door when the job is done: delete the bot's role in the source account and the bot's
grant policy in the target account. Only what the bot made (its `dtsbot:request` tag) is touched; a role or
policy a person made is left exactly as it is. The engine runs this step only for the last request that uses a
shared role (storage.ownership), and hands it the ended requests that kept the role or grant for it
(`facts.inherits_from`): what carries their tag is its to delete. Each part reads first, so a re-run after a crash
finishes the rest, and leaves a role or policy of the same name that another request made since.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.i18n import _
from core.steps import Outcome, Owned, StepResult
from handlers.cam_lookup import (
    POLICY_MISSING,
    attached_role_policies,
    find_custom_policy,
    get_role,
    role_missing,
    user_policy_ids,
)
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import tagged_task
from storage.models import MigrationRequest

STEP = "revoke_access"


def _revoke_role(request: MigrationRequest, clients: CloudClients) -> tuple[str | None, list[Owned]]:
    if clients.settings.account(request.source_account).access == "guided":
        return None, []  # its owner made the role by hand and deletes it (handlers/guided.py)
    if request.facts.keep_role_for:  # the engine: other requests still use the role
        return _("role `{role}` kept: request {other} still uses it and revokes it when it ends",
                 role=request.role_name, other=request.facts.keep_role_for), []
    cam = clients.cam(request.source_account)
    role = get_role(cam, request.role_name)
    names = {"role": request.role_name, "account": request.source_account}
    gone = [Owned("created", "role", request.source_uin, request.role_name)]
    if role is None:
        return _("role `{role}` in {account} already gone", **names), gone
    owner = policies.tagged_owner(role.get("Tags"))
    if owner is None:
        return _("role `{role}` in {account} left as it is (not made by dtsbot: it still trusts {target} root "
                 "until its owner changes it)", target=request.target_account, **names), []
    if owner not in (request.id, request.facts.role_owner if request.facts.role_used else None,
                     *(request.facts.inherits_from or ())):
        return _("role `{role}` in {account} left to request {owner} (this request did not use it)", owner=owner,
                 **names), []
    try:
        attached = attached_role_policies(cam, request.role_name)
        for policy_id in attached.values():
            cam.call("DetachRolePolicy", {"DetachRoleName": request.role_name, "PolicyId": policy_id})
        cam.call("DeleteRole", {"RoleName": request.role_name})
    except TencentCloudSDKException as error:
        if not role_missing(error):
            raise
        return _("role `{role}` in {account} already gone", **names), gone  # another ending user deleted it
    detached = [Owned("attached", "role_policy", request.source_uin, name, request.role_name) for name in attached]
    return _("role `{role}` deleted in {account}", **names), gone + detached


def _revoke_grant(request: MigrationRequest, clients: CloudClients) -> tuple[str | None, list[Owned]]:
    if request.executor == "root" or clients.settings.account(request.target_account).access == "guided":
        return None, []
    cam = clients.cam(request.target_account)
    name = policies.grant_policy_name(request.source_uin, request.role_name)
    gone = [Owned("created", "policy", request.target_uin, name),
            Owned("attached", "user_policy", request.target_uin, name, request.executor)]
    policy_id = find_custom_policy(cam, name)
    if policy_id is None:
        return _("grant `{policy}` in {account} already gone", policy=name, account=request.target_account), gone
    owner = policies.tagged_owner(cam.call("GetPolicy", {"PolicyId": policy_id}).get("Tags"))
    if owner is None:
        return _("policy `{policy}` in {account} left as it is (not made by dtsbot)", policy=name,
                 account=request.target_account), []
    if (owner != request.id and owner not in (request.facts.inherits_from or ())
            and policy_id != request.facts.grant_policy_id):  # made anew since, by another request
        return _("grant `{policy}` in {account} left to request {owner} (this request did not use it)", policy=name,
                 account=request.target_account, owner=owner), []
    try:
        if policy_id in user_policy_ids(cam, request.executor):
            cam.call("DetachUserPolicy", {"DetachUin": int(request.executor), "PolicyId": policy_id})
        cam.call("DeletePolicy", {"PolicyId": [policy_id]})
    except TencentCloudSDKException as error:
        if error.get_code() not in POLICY_MISSING:
            raise
        return _("grant `{policy}` in {account} already gone", policy=name, account=request.target_account), gone
    return _("grant `{policy}` detached from {subaccount} and deleted in {account}", policy=name,
             subaccount=request.executor, account=request.target_account), gone


def unrecorded_task(request: MigrationRequest, clients: CloudClients) -> dict[str, str]:
    """A cancel that came while the task was being bought: the task the purchase made (found by its tag) is
    recorded as the request's `job_id` fact, so the cancel's notice names it (core.notices.left_task_notice).
    {} when there is none or it is recorded."""
    if request.job_id or request.state != "cancelling":
        return {}
    job_id = tagged_task(target_dts(request, clients), request.id)
    return {} if job_id is None else {"job_id": job_id}


@cloud_step(STEP)
def revoke_access(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Delete the bot's role in the source account and its grant policy in the target account."""
    role_part, role_released = _revoke_role(request, clients)
    grant_part, grant_released = _revoke_grant(request, clients)
    done = [part for part in (role_part, grant_part) if part]
    return StepResult(Outcome.DONE, notice=_("Access revoked: {what}.", what="; ".join(done)),
                      released=tuple(role_released + grant_released), facts=unrecorded_task(request, clients))

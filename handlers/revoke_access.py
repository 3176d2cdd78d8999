"""Close the cross-account door when the job is done: in the source account detach the read-only policies and
delete the role — only when its trust policy is still the one the bot made — and in the target account detach
and delete the sub-account grant. Each part checks first, so a re-run after a crash finishes the rest.
"""

from __future__ import annotations

from core import policies
from core.cloud import CloudClients
from core.steps import Outcome, StepResult
from handlers.cam_lookup import (
    attached_role_policies,
    find_custom_policy,
    get_role,
    same_document,
    user_policy_ids,
)
from handlers.step import cloud_step
from storage.models import MigrationRequest

STEP = "revoke_access"


def _revoke_role(request: MigrationRequest, clients: CloudClients) -> str | None:
    if clients.settings.account(request.source_account).access == "guided":
        return None  # its owner made the role by hand and deletes it (handlers/guided.py)
    cam = clients.cam(request.source_account)
    role = get_role(cam, request.role_name)
    where = f"in {request.source_account}"
    if role is None:
        return f"role `{request.role_name}` {where} already gone"
    trust = policies.document(policies.trust_policy(request.target_uin, request.external_id))
    if not same_document(role["PolicyDocument"], trust):
        return f"role `{request.role_name}` {where} left untouched (its trust policy is not the bot's)"
    for policy_id in attached_role_policies(cam, request.role_name).values():
        cam.call("DetachRolePolicy", {"DetachRoleName": request.role_name, "PolicyId": policy_id})
    cam.call("DeleteRole", {"RoleName": request.role_name})
    return f"role `{request.role_name}` deleted {where}"


def _revoke_grant(request: MigrationRequest, clients: CloudClients) -> str | None:
    if request.executor == "root" or clients.settings.account(request.target_account).access == "guided":
        return None
    cam = clients.cam(request.target_account)
    name = policies.grant_policy_name(request.source_uin, request.role_name)
    policy_id = find_custom_policy(cam, name)
    if policy_id is None:
        return f"grant `{name}` in {request.target_account} already gone"
    grant = policies.document(policies.subaccount_grant(request.source_uin, request.role_name))
    if not same_document(cam.call("GetPolicy", {"PolicyId": policy_id})["PolicyDocument"], grant):
        return f"policy `{name}` in {request.target_account} left untouched (not the bot's grant)"
    if policy_id in user_policy_ids(cam, request.executor):
        cam.call("DetachUserPolicy", {"DetachUin": int(request.executor), "PolicyId": policy_id})
    cam.call("DeletePolicy", {"PolicyId": [policy_id]})
    return f"grant `{name}` detached from {request.executor} and deleted in {request.target_account}"


@cloud_step(STEP)
def revoke_access(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Delete the bot's role in the source account and its grant policy in the target account."""
    done = [part for part in (_revoke_role(request, clients), _revoke_grant(request, clients)) if part]
    return StepResult(Outcome.DONE, notice="Access revoked: " + "; ".join(done) + ".")

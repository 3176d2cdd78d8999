"""Authorize the source account (guide, "Authorizing Account"): a CAM role trusting the target root, with the
engine's read-only policies. Reads first; creates the role and attaches policies only where missing, and never
changes a role someone else made with another trust policy.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.steps import Diagnosis, Outcome, StepResult
from handlers.cam_lookup import attached_role_policies, get_role, same_document
from handlers.step import cloud_step, failed
from storage.models import MigrationRequest

STEP = "authorize_source"


def role_description(request: MigrationRequest) -> str:
    """The role's description: who made it and why, so people looking at CAM know."""
    return f"dtsbot: DTS read-only access for account {request.target_uin} (request {request.id})"


@cloud_step(STEP)
def authorize_source(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Create the role (if absent) with the bot's trust policy and attach each missing read-only policy."""
    cam = clients.cam(request.source_account)
    trust = policies.document(policies.trust_policy(request.target_uin, request.external_id))
    role = get_role(cam, request.role_name)
    created = False
    if role is None:
        try:
            cam.call("CreateRole", {"RoleName": request.role_name, "PolicyDocument": trust,
                                    "Description": role_description(request), "ConsoleLogin": 0})
            created = True
        except TencentCloudSDKException as error:
            if error.get_code() != "InvalidParameter.RoleNameInUse":
                raise
            role = get_role(cam, request.role_name)  # made meanwhile (or by our own lost first attempt)
    if role is not None and not same_document(role["PolicyDocument"], trust):
        return failed(Diagnosis(
            "RoleTrustPolicyMismatch",
            f"{STEP}: role `{request.role_name}` exists in {request.source_account} ({request.source_uin}) "
            "with another trust policy",
            "The bot will not widen an existing role's trust to another account or external ID.",
            "Choose another role_name, or change that role's trust policy to trust only the target root "
            f"({policies.trusted_principal(request.target_uin)}) with this request's external ID, then retry.",
        ))
    attached = attached_role_policies(cam, request.role_name)
    added = [name for name in policies.source_policies(request.db_type) if name not in attached]
    for name in added:
        cam.call("AttachRolePolicy", {"AttachRoleName": request.role_name, "PolicyName": name})
    return StepResult(Outcome.DONE, notice=_notice(request, created, added))


def _notice(request: MigrationRequest, created: bool, added: list[str]) -> str:
    where = f"in {request.source_account} ({request.source_uin})"
    trusting = f"trusting {request.target_account} root, external ID `{policies.mask(request.external_id)}`"
    head = (f"Role `{request.role_name}` created {where}, {trusting}" if created
            else f"Role `{request.role_name}` found {where}, {trusting}")
    if added:
        return f"{head}; attached {', '.join(added)}."
    return f"{head}; {', '.join(policies.source_policies(request.db_type))} already attached."

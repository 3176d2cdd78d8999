"""Grant the executing sub-account `sts:AssumeRole` on exactly the source role (guide, step 7): one custom
policy in the target account, reused when identical, attached to that sub-account.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.steps import Diagnosis, Outcome, StepResult
from handlers.cam_lookup import find_custom_policy, same_document, user_policy_ids
from handlers.step import cloud_step, failed
from storage.models import MigrationRequest

STEP = "grant_subaccount"


@cloud_step(STEP)
def grant_subaccount(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Find or create the grant policy, then attach it to the executor sub-account if it is not yet."""
    if request.executor == "root":
        return StepResult(Outcome.DONE)
    cam = clients.cam(request.target_account)
    name = policies.grant_policy_name(request.source_uin, request.role_name)
    grant = policies.document(policies.subaccount_grant(request.source_uin, request.role_name))
    policy_id = find_custom_policy(cam, name)
    created = False
    if policy_id is None:
        try:
            policy_id = int(cam.call("CreatePolicy", {
                "PolicyName": name, "PolicyDocument": grant,
                "Description": f"dtsbot: let sub-account {request.executor} assume "
                               f"{policies.role_arn(request.source_uin, request.role_name)}",
            })["PolicyId"])
            created = True
        except TencentCloudSDKException as error:
            if error.get_code() != "FailedOperation.PolicyNameInUse":
                raise
            policy_id = find_custom_policy(cam, name)
            if policy_id is None:
                raise
    if not created:
        existing = cam.call("GetPolicy", {"PolicyId": policy_id})["PolicyDocument"]
        if not same_document(existing, grant):
            return failed(Diagnosis(
                "GrantPolicyMismatch",
                f"{STEP}: policy `{name}` exists in {request.target_account} with another document",
                "The bot reuses its grant policy only when it allows exactly sts:AssumeRole on this role.",
                f"Delete or rename policy `{name}` in {request.target_account}, then retry.",
            ))
    attached_now = policy_id not in user_policy_ids(cam, request.executor)
    if attached_now:
        cam.call("AttachUserPolicy", {"AttachUin": int(request.executor), "PolicyId": policy_id})
    verb = "created and attached" if created else "attached" if attached_now else "already attached"
    return StepResult(Outcome.DONE, facts={"grant_policy_id": policy_id},
                      notice=f"Policy `{name}` (sts:AssumeRole on `{request.role_name}` of {request.source_uin}) "
                             f"{verb} to sub-account {request.executor} in {request.target_account}.")

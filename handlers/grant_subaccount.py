"""Grant the executing sub-account `sts:AssumeRole` on exactly the source role (guide, step 7): one custom
policy in the target account, tagged `dtsbot:request=<id>`, attached to that sub-account. A policy of that name
that a person made is used only when it says the same thing and is attached already; the bot never attaches,
detaches or deletes it.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.steps import Diagnosis, Outcome, Owned, StepResult
from handlers.cam_lookup import find_custom_policy, same_document, user_policy_ids
from handlers.step import cloud_step, failed
from storage.models import MigrationRequest

STEP = "grant_subaccount"


@cloud_step(STEP)
def grant_subaccount(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Find or create the grant policy, then attach it to the executor sub-account if it is the bot's."""
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
                "PolicyName": name, "PolicyDocument": grant, "Tags": policies.owner_tags(request.id),
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
    owner: str | None = request.id
    if not created:
        existing = cam.call("GetPolicy", {"PolicyId": policy_id})
        owner = policies.tagged_owner(existing.get("Tags"))
        if not same_document(existing["PolicyDocument"], grant):
            made = f"made by dtsbot for request {owner}" if owner else "not made by dtsbot"
            return failed(Diagnosis(
                "GrantPolicyMismatch",
                f"{STEP}: policy `{name}` exists in {request.target_account} ({made}) with another document",
                "The bot uses a grant policy only when it allows exactly sts:AssumeRole on this role, and never "
                "changes one it did not create.",
                f"A target owner deletes or renames policy `{name}` in {request.target_account}, then Retry.",
            ))
    attached = policy_id in user_policy_ids(cam, request.executor)
    if owner is None:
        if not attached:
            return failed(Diagnosis(
                "ExistingGrantNotAttached",
                f"{STEP}: policy `{name}` in {request.target_account} was not made by dtsbot and is not attached "
                f"to sub-account {request.executor}",
                "The bot never attaches a policy it did not create.",
                f"A target owner attaches policy `{name}` to sub-account {request.executor} (or deletes the policy "
                "so the bot makes its own), then Retry.",
            ))
        return StepResult(Outcome.DONE, facts={"grant_policy_id": policy_id},
                          notice=f"Policy `{name}` (not made by dtsbot: used as it is) is attached to sub-account "
                                 f"{request.executor} in {request.target_account}.")
    if not attached:
        cam.call("AttachUserPolicy", {"AttachUin": int(request.executor), "PolicyId": policy_id})
    owned = [Owned("attached", "user_policy", request.target_uin, name, request.executor, policy_id)]
    if owner == request.id:
        owned.insert(0, Owned("created", "policy", request.target_uin, name, "", policy_id))
    verb = "created and attached" if created else "already attached" if attached else "attached"
    return StepResult(Outcome.DONE, facts={"grant_policy_id": policy_id}, owned=tuple(owned),
                      notice=f"Policy `{name}` (sts:AssumeRole on `{request.role_name}` of {request.source_uin}) "
                             f"{verb} to sub-account {request.executor} in {request.target_account}.")

"""Grant the executing sub-account `sts:AssumeRole` on exactly the source role (guide, step 7): one custom
policy in the target account, tagged `dtsbot:request=<id>`, attached to that sub-account. A policy of that name
that a person made is used only when it says the same thing and is attached already; the bot never attaches,
detaches or deletes it.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.i18n import N_, _
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
            made = _("made by dtsbot for request {owner}", owner=owner) if owner else _("not made by dtsbot")
            return failed(Diagnosis(
                "GrantPolicyMismatch",
                f"{STEP}: " + _("policy `{policy}` exists in {account} ({made}) with another document", policy=name,
                                account=request.target_account, made=made),
                _("The bot uses a grant policy only when it allows exactly sts:AssumeRole on this role, and never "
                  "changes one it did not create."),
                _("A target owner deletes or renames policy `{policy}` in {account}, then Retry.", policy=name,
                  account=request.target_account),
            ))
    attached = policy_id in user_policy_ids(cam, request.executor)
    if owner is None:
        if not attached:
            return failed(Diagnosis(
                "ExistingGrantNotAttached",
                f"{STEP}: " + _("policy `{policy}` in {account} was not made by dtsbot and is not attached to "
                                "sub-account {subaccount}", policy=name, account=request.target_account,
                                subaccount=request.executor),
                _("The bot never attaches a policy it did not create."),
                _("A target owner attaches policy `{policy}` to sub-account {subaccount} (or deletes the policy so "
                  "the bot makes its own), then Retry.", policy=name, subaccount=request.executor),
            ))
        return StepResult(Outcome.DONE, facts={"grant_policy_id": policy_id},
                          notice=_("Policy `{policy}` (not made by dtsbot: used as it is) is attached to sub-account "
                                   "{subaccount} in {account}.", policy=name, subaccount=request.executor,
                                   account=request.target_account))
    if not attached:
        cam.call("AttachUserPolicy", {"AttachUin": int(request.executor), "PolicyId": policy_id})
    owned = [Owned("attached", "user_policy", request.target_uin, name, request.executor, policy_id)]
    if owner == request.id:
        owned.insert(0, Owned("created", "policy", request.target_uin, name, "", policy_id))
    sentence = (_GRANT_CREATED if created else _GRANT_ALREADY if attached else _GRANT_ATTACHED)
    return StepResult(Outcome.DONE, facts={"grant_policy_id": policy_id}, owned=tuple(owned),
                      notice=_(sentence, policy=name, role=request.role_name, uin=request.source_uin,
                               subaccount=request.executor, account=request.target_account))


_GRANT_CREATED = N_("Policy `{policy}` (sts:AssumeRole on `{role}` of {uin}) created and attached to sub-account "
                    "{subaccount} in {account}.")
_GRANT_ALREADY = N_("Policy `{policy}` (sts:AssumeRole on `{role}` of {uin}) already attached to sub-account "
                    "{subaccount} in {account}.")
_GRANT_ATTACHED = N_("Policy `{policy}` (sts:AssumeRole on `{role}` of {uin}) attached to sub-account {subaccount} "
                     "in {account}.")

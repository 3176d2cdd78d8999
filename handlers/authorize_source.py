"""Authorize the source account (guide, "Authorizing Account"): a CAM role trusting the target root, with the
engine's read-only policies. Reads first. A role the bot creates is tagged `dtsbot:request=<id>`; the bot
attaches missing policies only to its own roles. A role a person made is used as it is when it fits, and never
changed: when it does not fit, the diagnosis says exactly what its owner must add or change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import SESSION_SECONDS, Api, CloudClients
from core.i18n import _
from core.steps import Diagnosis, Outcome, Owned, StepResult
from handlers.cam_lookup import attached_role_policies, get_role, same_document
from handlers.step import cloud_step, failed
from storage.models import MigrationRequest

STEP = "authorize_source"


def role_description(request: MigrationRequest) -> str:
    """The role's description: who made it and why, so people looking at CAM know."""
    return f"dtsbot: DTS read-only access for account {request.target_uin} (request {request.id})"


def trust_document(request: MigrationRequest) -> str:
    """The exact trust policy the request needs, as CAM stores it (holds the external ID: never posted)."""
    return policies.document(policies.trust_policy(request.target_uin, request.external_id))


@cloud_step(STEP)
def authorize_source(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Create the bot's role (if absent) and attach its missing policies; use a fitting person's role as it is."""
    cam = clients.cam(request.source_account)
    role = get_role(cam, request.role_name)
    created = False
    if role is None:
        try:
            cam.call("CreateRole", {"RoleName": request.role_name, "PolicyDocument": trust_document(request),
                                    "Description": role_description(request), "ConsoleLogin": 0,
                                    "SessionDuration": SESSION_SECONDS, "Tags": policies.owner_tags(request.id)})
            created = True
        except TencentCloudSDKException as error:
            if error.get_code() != "InvalidParameter.RoleNameInUse":
                raise
            role = get_role(cam, request.role_name)  # made meanwhile (or by our own lost first attempt)
            if role is None:
                raise
    owner = request.id if created else policies.tagged_owner(role.get("Tags") if role else None)
    if owner is None:
        assert role is not None
        return _use_persons_role(request, cam, role)
    if role is not None and not same_document(role["PolicyDocument"], trust_document(request)):
        return failed(Diagnosis(
            "RoleTrustPolicyMismatch",
            f"{STEP}: " + _("role `{role}` in {account} ({uin}) was made by dtsbot for request {owner} with another "
                            "trust policy (another target or external ID)", role=request.role_name,
                            account=request.source_account, uin=request.source_uin, owner=owner),
            _("The bot never changes the trust of a role to another account or external ID."),
            _("Leave role_name empty (each request then gets its own role), or give the same external_id as "
              "request {owner} to share its role; then open the request again.", owner=owner),
        ))
    attached = attached_role_policies(cam, request.role_name)
    added = [name for name in policies.source_policies(request.db_type) if name not in attached]
    for name in added:
        cam.call("AttachRolePolicy", {"AttachRoleName": request.role_name, "PolicyName": name})
    ours = policies.source_policies(request.db_type) if owner == request.id else added
    owned = [_role(request, "uses")]
    if owner == request.id:
        owned.append(_role(request, "created"))
    owned += [Owned("attached", "role_policy", request.source_uin, name, request.role_name, attached.get(name))
              for name in ours]
    return StepResult(Outcome.DONE, facts={"role_used": True, "role_owner": owner}, owned=tuple(owned),
                      notice=_notice(request, created, owner, added))


def _role(request: MigrationRequest, relation: str) -> Owned:
    return Owned(relation, "role", request.source_uin, request.role_name)


def _use_persons_role(request: MigrationRequest, cam: Api, role: dict[str, Any]) -> StepResult:
    """A role someone made: read only. Use it when trust and policies fit, else say what its owner must do."""
    where = f"`{request.role_name}` in {request.source_account} ({request.source_uin})"
    why = _("The bot never changes a role it did not create (no policy attached, no trust policy updated).")
    if not same_document(role["PolicyDocument"], trust_document(request)):
        return replace(failed(Diagnosis(
            "ExistingRoleTrustMismatch",
            f"{STEP}: " + _("role {where} was not made by dtsbot and its trust policy is not this request's",
                            where=where),
            why,
            _("A source owner sets the trust policy of role `{role}` to trust only `{principal}` with external ID "
              "`{external_id}` (the exact document was sent to the source approvers privately), or the requester "
              "chooses another role_name; then Retry.", role=request.role_name,
              principal=policies.trusted_principal(request.target_uin), external_id=policies.mask(request.external_id)),
        )), private="trust_policy")
    attached = attached_role_policies(cam, request.role_name)
    missing = [name for name in policies.source_policies(request.db_type) if name not in attached]
    if missing:
        return failed(Diagnosis(
            "ExistingRoleLacksPolicy",
            f"{STEP}: " + _("role {where} was not made by dtsbot and lacks {policies}", where=where,
                            policies=", ".join(missing)),
            why,
            _("A source owner attaches {policies} to role `{role}`, or the requester chooses another role_name; "
              "then Retry.", policies=", ".join(f"`{name}`" for name in missing), role=request.role_name),
        ))
    return StepResult(Outcome.DONE, facts={"role_used": True, "role_owner": None}, owned=(_role(request, "uses"),),
                      notice=_("Role {where} found (not made by dtsbot: used as it is, never changed or deleted "
                               "by the bot); it trusts {account} root with external ID `{external_id}` and has "
                               "{policies}.", where=where, account=request.target_account,
                               external_id=policies.mask(request.external_id),
                               policies=", ".join(policies.source_policies(request.db_type))))


def _notice(request: MigrationRequest, created: bool, owner: str, added: list[str]) -> str:
    names = {"role": request.role_name, "account": request.source_account, "uin": request.source_uin,
             "target": request.target_account, "external_id": policies.mask(request.external_id)}
    if created:
        head = _("Role `{role}` created in {account} ({uin}), trusting {target} root, external ID `{external_id}`",
                 **names)
    elif owner == request.id:
        head = _("Role `{role}` found in {account} ({uin}) (made by dtsbot for this request), trusting {target} "
                 "root, external ID `{external_id}`", **names)
    else:
        head = _("Role `{role}` found in {account} ({uin}) (made by dtsbot for request {owner}, shared), trusting "
                 "{target} root, external ID `{external_id}`", owner=owner, **names)
    if added:
        return head + _("; attached {policies}.", policies=", ".join(added))
    return head + _("; {policies} already attached.", policies=", ".join(policies.source_policies(request.db_type)))

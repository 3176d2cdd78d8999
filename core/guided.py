"""Guided mode: the CAM steps an account owner does by hand, as one model rendered three ways.

For an account with `access: guided` the bot holds no CAM keys. The plan's CAM steps (the source role with its
trust policy and read-only policies; the target sub-account's `sts:AssumeRole` grant) and their clean-up become
`GuidedSteps`: the same calls the managed steps make (`core.policies` builds every document), rendered as the
guide's console steps, a `tccli` script (one line per API call, parameters as the API reference names them) and
Terraform for the tencentcloud provider. The external ID goes in as given: masked for the channel, in full
only for that side's approvers.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from core import policies
from core.i18n import _


class GuidedRequest(Protocol):
    """The request fields the steps need (storage.models.MigrationRequest satisfies it)."""

    id: str
    source_account: str
    source_uin: str
    target_account: str
    target_uin: str
    role_name: str
    executor: str
    db_type: str


@dataclass(frozen=True)
class Var:
    """A shell variable holding an earlier call's answer (e.g. the ID of the policy just created)."""

    name: str


@dataclass(frozen=True)
class CamCall:
    """One CAM API call; `keep` = (variable, JMESPath) stores a field of its answer for later calls."""

    action: str
    params: dict[str, Any]
    keep: tuple[str, str] | None = None


@dataclass(frozen=True)
class Expr:
    """A Terraform expression written as is (a reference), not as a quoted string."""

    text: str


@dataclass(frozen=True)
class TfBlock:
    """One Terraform `resource` or `data` block."""

    kind: str
    type: str
    name: str
    attributes: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{'data.' if self.kind == 'data' else ''}{self.type}.{self.name}"


@dataclass(frozen=True)
class GuidedSteps:
    """What one owner does in one account: console steps, API calls, Terraform (empty: `terraform destroy`)."""

    side: str
    account: str
    uin: str
    title: str
    console: tuple[str, ...]
    calls: tuple[CamCall, ...]
    terraform: tuple[TfBlock, ...] = field(default=())


def _document(policy: dict[str, Any]) -> str:
    """`policies.document`'s canonical text, with a masked external ID's `…` kept readable."""
    return json.dumps(policy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _tf_name(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text.lower()).strip("_") or "x"


def _policy_lookups(role: str, names: tuple[str, ...]) -> list[TfBlock]:
    blocks: list[TfBlock] = []
    for name in names:
        local = _tf_name(name)
        blocks.append(TfBlock("data", "tencentcloud_cam_policies", local, {"name": name, "scope": "QCS"}))
        blocks.append(TfBlock("resource", "tencentcloud_cam_role_policy_attachment", local, {
            "role_id": Expr(f"{role}.id"),
            "policy_id": Expr(f"data.tencentcloud_cam_policies.{local}.policy_list[0].policy_id")}))
    return blocks


def source_role(request: GuidedRequest, external_id: str | None) -> GuidedSteps:
    """The guide's "Authorizing Account" in the source account: the role trusting the target root, its policies."""
    trust = _document(policies.trust_policy(request.target_uin, external_id))
    names = policies.source_policies(request.db_type)
    description = f"DTS read-only access for account {request.target_uin} (dtsbot request {request.id}, guided)"
    role = TfBlock("resource", "tencentcloud_cam_role", _tf_name(request.role_name), {
        "name": request.role_name, "document": trust, "description": description, "console_login": False})
    verification = (_("tick *Enable verification* and enter the external ID `{external_id}`", external_id=external_id)
                    if external_id else _("leave *Enable verification* unticked"))
    return GuidedSteps(
        "source", request.source_account, request.source_uin,
        _("Create role `{role}` in {account} ({uin})", role=request.role_name, account=request.source_account,
          uin=request.source_uin),
        console=(
            _("Sign in to the CAM console of {account} ({uin}) as its root account or a CAM administrator; go to "
              "*Roles* → *Create Role* → *Tencent Cloud account*.", account=request.source_account,
              uin=request.source_uin),
            _("Choose *Other root account*, enter the account ID `{uin}` (the role then trusts `{principal}`), and "
              "{verification}.", uin=request.target_uin, principal=policies.trusted_principal(request.target_uin),
              verification=verification),
            _("Attach the policies {policies}.", policies=", ".join(f"`{n}`" for n in names)),
            _("Name the role `{role}` and finish.", role=request.role_name),
        ),
        calls=(
            CamCall("CreateRole", {"RoleName": request.role_name, "PolicyDocument": trust,
                                   "Description": description, "ConsoleLogin": 0}),
            *(CamCall("AttachRolePolicy", {"AttachRoleName": request.role_name, "PolicyName": n}) for n in names),
        ),
        terraform=(role, *_policy_lookups(role.address, names)),
    )


def source_trust_fix(request: GuidedRequest, external_id: str | None) -> GuidedSteps:
    """The role exists but trusts another account or external ID: set its trust policy to the plan's (the
    Terraform stays the whole configuration: applied again, it sets the document)."""
    steps = source_role(request, external_id)
    trust = steps.calls[0].params["PolicyDocument"]
    return replace(
        steps, title=_("Set the trust policy of `{role}` in {account}", role=request.role_name,
                       account=request.source_account),
        console=(_("In the CAM console of {account}, open role `{role}` → *Role Entity* → *Manage*; keep only the "
                   "root account `{uin}`, with the external ID `{external_id}`.", account=request.source_account,
                   role=request.role_name, uin=request.target_uin, external_id=external_id or _("(none)")),),
        calls=(CamCall("UpdateAssumeRolePolicy", {"RoleName": request.role_name, "PolicyDocument": trust}),))


def source_role_deletion(request: GuidedRequest) -> GuidedSteps:
    """Clean-up in the source account: detach the role's policies and delete the role."""
    names = policies.source_policies(request.db_type)
    return GuidedSteps(
        "source", request.source_account, request.source_uin,
        _("Delete role `{role}` in {account} ({uin})", role=request.role_name, account=request.source_account,
          uin=request.source_uin),
        console=(
            _("Sign in to the CAM console of {account} ({uin}); go to *Roles*.", account=request.source_account,
              uin=request.source_uin),
            _("Find `{role}` and choose *Delete* (its policies {policies} go with it).", role=request.role_name,
              policies=", ".join(names)),
        ),
        calls=(
            *(CamCall("DetachRolePolicy", {"DetachRoleName": request.role_name, "PolicyName": n}) for n in names),
            CamCall("DeleteRole", {"RoleName": request.role_name}),
        ),
    )


def target_grant(request: GuidedRequest) -> GuidedSteps:
    """The guide's optional steps 7–11 in the target account: a policy allowing `sts:AssumeRole` on exactly the
    role, attached to the executing sub-account."""
    name = policies.grant_policy_name(request.source_uin, request.role_name)
    grant = _document(policies.subaccount_grant(request.source_uin, request.role_name))
    arn = policies.role_arn(request.source_uin, request.role_name)
    description = f"Let sub-account {request.executor} assume {arn} (dtsbot request {request.id}, guided)"
    policy = TfBlock("resource", "tencentcloud_cam_policy", "dtsbot_grant",
                     {"name": name, "document": grant, "description": description})
    user = TfBlock("data", "tencentcloud_cam_users", "executor", {"uin": int(request.executor)})
    return GuidedSteps(
        "target", request.target_account, request.target_uin,
        _("Let sub-account {subaccount} of {account} assume `{role}`", subaccount=request.executor,
          account=request.target_account, role=request.role_name),
        console=(
            _("Sign in to the CAM console of {account} ({uin}); go to *Policies* → *Create Custom Policy* → *Create "
              "by Policy Syntax* → *Blank Template*.", account=request.target_account, uin=request.target_uin),
            _("Name it `{policy}` with the policy content `{document}` (resource `{arn}`).", policy=name,
              document=grant, arn=arn),
            _("Associate the policy with sub-account `{subaccount}`.", subaccount=request.executor),
        ),
        calls=(
            CamCall("CreatePolicy", {"PolicyName": name, "PolicyDocument": grant, "Description": description},
                    keep=("POLICY_ID", "PolicyId")),
            CamCall("AttachUserPolicy", {"AttachUin": int(request.executor), "PolicyId": Var("POLICY_ID")}),
        ),
        terraform=(policy, user, TfBlock("resource", "tencentcloud_cam_user_policy_attachment", "dtsbot_grant", {
            "user_name": Expr(f"{user.address}.user_list[0].name"), "policy_id": Expr(f"{policy.address}.id")})),
    )


def target_grant_deletion(request: GuidedRequest) -> GuidedSteps:
    """Clean-up in the target account: detach the grant from the sub-account and delete it."""
    name = policies.grant_policy_name(request.source_uin, request.role_name)
    return GuidedSteps(
        "target", request.target_account, request.target_uin,
        _("Delete policy `{policy}` in {account} ({uin})", policy=name, account=request.target_account,
          uin=request.target_uin),
        console=(_("In the CAM console of {account}, go to *Policies*, find `{policy}`, disassociate it from "
                   "sub-account `{subaccount}` and delete it.", account=request.target_account, policy=name,
                   subaccount=request.executor),),
        calls=(
            CamCall("ListPolicies", {"Keyword": name, "Scope": "Local"},  # Keyword also matches longer names
                    keep=("POLICY_ID", f"List[?PolicyName=='{name}'].PolicyId | [0]")),
            CamCall("DetachUserPolicy", {"DetachUin": int(request.executor), "PolicyId": Var("POLICY_ID")}),
            CamCall("DeletePolicy", {"PolicyId": [Var("POLICY_ID")]}),
        ),
    )


# -- renderings --------------------------------------------------------------------------------------------
def _arg(value: Any) -> str:
    if isinstance(value, Var):
        return f'"${value.name}"'
    if isinstance(value, list):  # tccli takes an array's items as separate words
        return " ".join(_arg(item) for item in value)
    if isinstance(value, dict):
        return shlex.quote(json.dumps(value, separators=(",", ":")))
    return shlex.quote(str(value))


def tccli_script(steps: GuidedSteps) -> str:
    """The calls as a `tccli` script for Cloud Shell: one command per call, answers kept in shell variables."""
    lines = []
    for call in steps.calls:
        command = f"tccli cam {call.action} " + " ".join(f"--{k} {_arg(v)}" for k, v in call.params.items())
        if call.keep:
            variable, path = call.keep
            command = f"{variable}=$({command} --filter {shlex.quote(path)})"
        lines.append(command)
    return "\n".join(lines)


def _hcl(value: Any) -> str:
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


def terraform(steps: GuidedSteps) -> str:
    """The steps as Terraform for the tencentcloud provider; clean-up is `terraform destroy` of the same files."""
    if not steps.terraform:
        return "# " + _("in the directory where you applied dtsbot's configuration for this request") + \
            "\nterraform destroy"
    parts = []
    for block in steps.terraform:
        width = max(len(k) for k in block.attributes)
        body = "\n".join(f"  {k.ljust(width)} = {_hcl(v)}" for k, v in block.attributes.items())
        parts.append(f'{block.kind} "{block.type}" "{block.name}" {{\n{body}\n}}')
    return "\n\n".join(parts)


def console_steps(steps: GuidedSteps) -> str:
    """The console steps, numbered as the guide numbers them."""
    return "\n".join(f"{n}. {line}" for n, line in enumerate(steps.console, start=1))


def render(steps: GuidedSteps) -> str:
    """The three forms for Slack (mrkdwn with code blocks)."""
    return (_("*{title}* — one of these three ways:", title=steps.title) + "\n" + _("*Console*")
            + f"\n{console_steps(steps)}\n" + _("*tccli* (Cloud Shell)") + f"\n```\n{tccli_script(steps)}\n```\n"
            + _("*Terraform* (tencentcloud provider)") + f"\n```\n{terraform(steps)}\n```")

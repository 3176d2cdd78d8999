"""CAM (v20190116) actions on the wire: params in, CamBackend call, the documented answer out.

Callers: a root account may do anything in its own account; a sub-account or a role session needs
AdministratorAccess or QcloudCamFullAccess attached, else `AuthFailure.UnauthorizedOperation`.
"""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.cam import documents
from sandbox.tencentcloud.cam.models import (
    DEFAULT_SESSION_DURATION,
    MAX_SESSION_DURATION,
    CamBackend,
    Policy,
    Role,
    fmt_time,
)
from sandbox.tencentcloud.exceptions import InvalidParameter, TencentCloudError, UnauthorizedOperation
from sandbox.tencentcloud.responder import Responder

CAM_ADMIN_POLICIES = {"AdministratorAccess", "QcloudCamFullAccess"}


def _page(items: list[Any], params: dict[str, Any], default_rp: int = 20) -> list[Any]:
    page, rp = max(int(params.get("Page") or 1), 1), max(int(params.get("Rp") or default_rp), 1)
    return items[(page - 1) * rp: page * rp]


def _tags(params: dict[str, Any]) -> list[dict[str, str]]:
    """CreateRole/CreatePolicy `Tags` (RoleTags / Tag: Key, Value), kept as given and returned by the reads."""
    return [{"Key": str(t["Key"]), "Value": str(t.get("Value", ""))} for t in params.get("Tags") or ()]


class CamResponse(Responder):
    """One method per CAM action, acting on the caller's own account."""

    @property
    def backend(self) -> CamBackend:
        return self.world.cam(self.caller.owner_uin)

    def _authorize(self, action: str) -> CamBackend:
        backend = self.backend
        if self.caller.is_root:
            return backend
        if self.caller.session is not None:
            names = backend.role_policy_names(self.caller.session.role_name)
        else:
            names = {p.name for p, _ in backend.user_policies_of(self.caller.uin)}
        if not names & CAM_ADMIN_POLICIES:
            raise UnauthorizedOperation(f"you are not authorized to perform operation (cam:{action})\n"
                                        f"resource (qcs::cam::uin/{self.caller.owner_uin}:*) has no permission")
        return backend

    def _role_info(self, role: Role) -> dict[str, Any]:
        return {
            "RoleId": role.role_id, "RoleName": role.name, "PolicyDocument": role.document,
            "Description": role.description, "AddTime": fmt_time(role.add_time),
            "UpdateTime": fmt_time(role.update_time),
            "ConsoleLogin": role.console_login, "RoleType": "user", "SessionDuration": role.session_duration,
            "RoleArn": f"qcs::cam::uin/{self.caller.owner_uin}:roleName/{role.name}",
            "Tags": [dict(t) for t in role.tags] or None,
        }

    def _policy(self, backend: CamBackend, params: dict[str, Any]) -> Policy:
        if params.get("PolicyId") is not None:
            if not backend.has_policy(params["PolicyId"]):
                raise TencentCloudError("InvalidParameter.PolicyIdNotExist", "policy not exist")
            return backend.policy(params["PolicyId"])
        if params.get("PolicyName"):
            return backend.policy_by_name(params["PolicyName"])
        raise InvalidParameter("PolicyId or PolicyName is required.")

    def _sub_account(self, uin: int) -> str:
        account = self.world.account(self.caller.owner_uin)
        if not any(s.uin == str(uin) for s in account.sub_accounts):
            raise TencentCloudError("ResourceNotFound.UserNotExist", f"user {uin} not exist")
        return str(uin)

    # roles
    def CreateRole(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("CreateRole")
        documents.check_trust_policy(params["PolicyDocument"])
        duration = int(params.get("SessionDuration") or 0)
        if not 0 <= duration <= MAX_SESSION_DURATION:  # "申请角色临时密钥的最长有效期限制(范围：0~43200)"
            raise TencentCloudError("InvalidParameter.ParamError",
                                    f"SessionDuration {duration} is out of range [0, {MAX_SESSION_DURATION}]")
        role = backend.create_role(params["RoleName"], params["PolicyDocument"], params.get("Description", ""),
                                   params.get("ConsoleLogin", 0), duration or DEFAULT_SESSION_DURATION,
                                   _tags(params))
        return {"RoleId": role.role_id}

    def GetRole(self, params: dict[str, Any]) -> dict[str, Any]:
        role = self._authorize("GetRole").get_role(params.get("RoleName"), params.get("RoleId"))
        return {"RoleInfo": self._role_info(role)}

    def DescribeRoleList(self, params: dict[str, Any]) -> dict[str, Any]:
        roles = sorted(self._authorize("DescribeRoleList").roles.values(), key=lambda r: r.add_time)
        wanted = _tags(params)  # "标签筛选": a role carrying every given Key=Value (a guess: the docs say no more)
        roles = [r for r in roles if all(tag in r.tags for tag in wanted)]
        return {"List": [self._role_info(r) for r in _page(roles, params)], "TotalNum": len(roles)}

    def DeleteRole(self, params: dict[str, Any]) -> dict[str, Any]:
        self._authorize("DeleteRole").delete_role(params.get("RoleName"), params.get("RoleId"))
        return {}

    def UpdateAssumeRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("UpdateAssumeRolePolicy")
        documents.check_trust_policy(params["PolicyDocument"])
        backend.update_trust_policy(params["PolicyDocument"], params.get("RoleName"), params.get("RoleId"))
        return {}

    def AttachRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("AttachRolePolicy")
        role = backend.get_role(params.get("AttachRoleName"), params.get("AttachRoleId"))
        backend.attach_role_policy(self._policy(backend, params), role)
        return {}

    def DetachRolePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("DetachRolePolicy")
        role = backend.get_role(params.get("DetachRoleName"), params.get("DetachRoleId"))
        backend.detach_role_policy(self._policy(backend, params), role)
        return {}

    def ListAttachedRolePolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("ListAttachedRolePolicies")
        role = backend.get_role(params.get("RoleName"), params.get("RoleId"))
        attached = [(backend.policy(pid), at) for pid, at in role.attached.items() if backend.has_policy(pid)]
        keyword, kind = params.get("Keyword", ""), params.get("PolicyType")
        attached = [(p, at) for p, at in attached if keyword.lower() in p.name.lower()
                    and kind in (None, "", "QCS" if p.preset else "User")]
        return {
            "List": [{"PolicyId": p.policy_id, "PolicyName": p.name, "AddTime": fmt_time(at),
                      "PolicyType": "QCS" if p.preset else "User", "CreateMode": p.type, "Deactived": 0,
                      "DeactivedDetail": [], "Description": p.description} for p, at in _page(attached, params)],
            "TotalNum": len(attached),
        }

    # policies
    def CreatePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("CreatePolicy")
        documents.check_policy(params["PolicyDocument"])
        policy = backend.create_policy(params["PolicyName"], params["PolicyDocument"],
                                       params.get("Description", ""), _tags(params))
        return {"PolicyId": policy.policy_id}

    def GetPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self._authorize("GetPolicy").policy(params["PolicyId"])
        return {"PolicyName": p.name, "Description": p.description, "Type": p.type,
                "AddTime": p.add_time_text, "UpdateTime": p.add_time_text, "PolicyDocument": p.document,
                "PresetAlias": p.name if p.preset else "", "IsServiceLinkedRolePolicy": 0,
                "Tags": [dict(t) for t in p.tags]}

    def ListPolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("ListPolicies")
        scope, keyword = params.get("Scope") or "All", (params.get("Keyword") or "").lower()
        found = [p for p in backend.all_policies() if keyword in p.name.lower()
                 and (scope == "All" or (scope == "QCS") == p.preset)]
        return {
            "TotalNum": len(found),
            "List": [{"PolicyId": p.policy_id, "PolicyName": p.name, "AddTime": p.add_time_text, "Type": p.type,
                      "Description": p.description, "CreateMode": p.type, "Attachments": 0, "ServiceType": "",
                      "IsAttached": 0, "Deactived": 0, "DeactivedDetail": [], "IsServiceLinkedPolicy": 0,
                      "UpdateTime": p.add_time_text, "Tags": [dict(t) for t in p.tags]}
                     for p in _page(found, params)],
            "ServiceTypeList": [],
        }

    def DeletePolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("DeletePolicy")
        for policy_id in params["PolicyId"]:
            backend.delete_policy(policy_id)
        return {}

    # sub-accounts
    def AttachUserPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("AttachUserPolicy")
        backend.attach_user_policy(self._policy(backend, params), self._sub_account(params["AttachUin"]))
        return {}

    def DetachUserPolicy(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("DetachUserPolicy")
        backend.detach_user_policy(self._policy(backend, params), self._sub_account(params["DetachUin"]))
        return {}

    def ListAttachedUserAllPolicies(self, params: dict[str, Any]) -> dict[str, Any]:
        backend = self._authorize("ListAttachedUserAllPolicies")
        keyword = (params.get("Keyword") or "").lower()
        attached = [(p, at) for p, at in backend.user_policies_of(self._sub_account(params["TargetUin"]))
                    if keyword in p.name.lower()]
        return {
            "PolicyList": [{"PolicyId": str(p.policy_id), "PolicyName": p.name, "Description": p.description,
                            "AddTime": fmt_time(at), "StrategyType": str(p.type), "CreateMode": str(p.type),
                            "Groups": [], "Deactived": 0, "DeactivedDetail": []}
                           for p, at in _page(attached, params)],
            "TotalNum": len(attached),
        }

    def GetUser(self, params: dict[str, Any]) -> dict[str, Any]:
        self._authorize("GetUser")
        for sub in self.world.account(self.caller.owner_uin).sub_accounts:
            if sub.name == params["Name"]:
                return {"Uin": int(sub.uin), "Name": sub.name, "Uid": int(sub.uin), "Remark": "",
                        "ConsoleLogin": 0}
        raise TencentCloudError("ResourceNotFound.UserNotExist", f"user {params['Name']} not exist")

    def ListUsers(self, params: dict[str, Any]) -> dict[str, Any]:
        self._authorize("ListUsers")
        subs = self.world.account(self.caller.owner_uin).sub_accounts
        return {"Data": [{"Uin": int(s.uin), "Name": s.name, "Uid": int(s.uin), "Remark": "", "ConsoleLogin": 0}
                         for s in subs]}

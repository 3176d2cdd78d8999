"""CAM reads the steps share: a role (or None), its attached policies, a custom policy by name, and whether two
policy documents say the same thing (CAM may answer a document re-encoded or re-ordered).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api

PAGE = 200
_ROLE_MISSING = {"InvalidParameter.RoleNotExist", "ResourceNotFound.RoleNotExist", "ResourceNotFound.RoleNotExists"}


POLICY_MISSING = frozenset({"InvalidParameter.PolicyIdNotExist", "ResourceNotFound.PolicyIdNotFound"})


def role_missing(error: TencentCloudSDKException) -> bool:
    """Whether CAM answered that the role does not exist."""
    return error.get_code() in _ROLE_MISSING or "role not exist" in str(error.get_message()).lower()


def get_role(cam: Api, role_name: str) -> dict[str, Any] | None:
    """RoleInfo of `role_name`, or None when the account has no such role."""
    try:
        return cam.call("GetRole", {"RoleName": role_name})["RoleInfo"]
    except TencentCloudSDKException as error:
        if role_missing(error):
            return None
        raise


def attached_role_policies(cam: Api, role_name: str) -> dict[str, int]:
    """Policies attached to the role: name -> policy id (every page)."""
    found: dict[str, int] = {}
    page = 1
    while True:
        body = cam.call("ListAttachedRolePolicies", {"RoleName": role_name, "Page": page, "Rp": PAGE})
        items = body.get("List") or []
        found.update({item["PolicyName"]: int(item["PolicyId"]) for item in items})
        if len(items) < PAGE or len(found) >= int(body.get("TotalNum") or 0):
            return found
        page += 1


def find_custom_policy(cam: Api, name: str) -> int | None:
    """Id of the account's own (non-preset) policy named exactly `name`, or None."""
    page = 1
    while True:
        body = cam.call("ListPolicies", {"Keyword": name, "Scope": "Local", "Page": page, "Rp": PAGE})
        items = body.get("List") or []
        for item in items:
            if item["PolicyName"] == name:
                return int(item["PolicyId"])
        if len(items) < PAGE:
            return None
        page += 1


def user_policy_ids(cam: Api, uin: str) -> set[int]:
    """Ids of the policies attached directly to sub-account `uin`."""
    found: set[int] = set()
    page = 1
    while True:
        body = cam.call("ListAttachedUserAllPolicies",
                        {"TargetUin": int(uin), "AttachType": 1, "Page": page, "Rp": PAGE})
        items = body.get("PolicyList") or []
        found.update(int(item["PolicyId"]) for item in items)
        if len(items) < PAGE:
            return found
        page += 1


def _scalar(value: Any, key: str) -> str:
    return str(value).lower() if key == "effect" else str(value)


def _canonical(value: Any, key: str = "") -> Any:
    """Keys lower-cased, lists sorted, a lone scalar the same as a one-item list."""
    if isinstance(value, dict):
        return {k.lower(): _canonical(v, k.lower()) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v, key) if isinstance(v, dict | list) else _scalar(v, key) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return [_scalar(value, key)]


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def same_document(a: str, b: str) -> bool:
    """Whether two CAM policy documents grant the same thing (ignoring order, case of keys, scalar vs list)."""
    try:
        return _canonical(_parse(a)) == _canonical(_parse(b))
    except ValueError:
        return False

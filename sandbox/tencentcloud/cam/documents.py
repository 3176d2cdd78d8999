"""CAM policy documents: the trust policy of a role and permission policies, checked and evaluated.

Documents are CAM syntax 2.0: `{"version": "2.0", "statement": [{"effect", "action", "principal" |
"resource", "condition"?}]}`; actions are `name/<service>:<Action>` (the `name/` prefix optional), `*`
and `<service>:*` wildcards allowed.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

from sandbox.tencentcloud.exceptions import TencentCloudError

ASSUME_ROLE = "sts:AssumeRole"
_QCS_PRINCIPAL = re.compile(r"qcs::cam::uin/(\d+):(root|uin/\d+|roleName/[\w+=,.@-]+)")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(document)
    except ValueError:
        raise TencentCloudError("InvalidParameter.PolicyDocumentError", "policy document is not JSON") from None
    if not isinstance(doc, dict):
        raise TencentCloudError("InvalidParameter.PolicyDocumentError", "policy document must be an object")
    if doc.get("version") != "2.0":
        raise TencentCloudError("InvalidParameter.VersionError", "policy document version must be 2.0")
    statements = _list(doc.get("statement") or [])
    if not statements or not all(isinstance(s, dict) for s in statements):
        raise TencentCloudError("InvalidParameter.StatementError", "policy document needs statements")
    for s in statements:
        if s.get("effect") not in ("allow", "deny"):
            raise TencentCloudError("InvalidParameter.StatementError", "statement effect must be allow or deny")
        if not s.get("action"):
            raise TencentCloudError("InvalidParameter.ActionMiss", "statement needs an action")
    return statements


def _action_matches(patterns: Any, action: str) -> bool:
    return any(fnmatchcase(action.lower(), str(p).removeprefix("name/").lower()) for p in _list(patterns))


def check_trust_policy(document: str) -> None:
    """Raise the CAM error when a role's trust policy (PolicyDocument of CreateRole) is malformed."""
    for s in _statements(document):
        if not _action_matches(s["action"], ASSUME_ROLE):
            raise TencentCloudError("InvalidParameter.ActionError", "trust policy action must be "
                                    "name/sts:AssumeRole")
        principal = s.get("principal")
        if not isinstance(principal, dict) or not (principal.get("qcs") or principal.get("service")):
            raise TencentCloudError("InvalidParameter.PrincipalError", "trust policy needs a principal")
        for qcs in _list(principal.get("qcs") or []):
            if not _QCS_PRINCIPAL.fullmatch(str(qcs)):
                raise TencentCloudError("InvalidParameter.PrincipalQcsError", f"principal {qcs} is invalid")


def check_policy(document: str) -> None:
    """Raise the CAM error when a permission policy (CreatePolicy) is malformed."""
    for s in _statements(document):
        if not s.get("resource"):
            raise TencentCloudError("InvalidParameter.ResourceError", "statement needs a resource")


def trust(document: str, root_uin: str, caller_uin: str) -> tuple[bool, list[str]]:
    """(whether the trust policy lets `caller_uin` of root `root_uin` assume the role, its external IDs).

    The external IDs are those the matching allow statements require through
    `{"string_equal": {"sts:external_id": ...}}` (empty when none is required).
    """
    accepted = {f"qcs::cam::uin/{root_uin}:root", f"qcs::cam::uin/{root_uin}:uin/{caller_uin}"}
    trusted, external_ids = False, list[str]()
    for s in _statements(document):
        qcs = {str(q) for q in _list((s.get("principal") or {}).get("qcs") or [])}
        if not (_action_matches(s["action"], ASSUME_ROLE) and qcs & accepted):
            continue
        if s["effect"] == "deny":
            return False, []
        trusted = True
        condition = (s.get("condition") or {}).get("string_equal") or {}
        if "sts:external_id" in condition:
            external_ids.extend(str(v) for v in _list(condition["sts:external_id"]))
    return trusted, external_ids


def allows(documents: list[str], action: str, resource: str) -> bool:
    """Whether these permission policies allow `action` on `resource` (an explicit deny wins)."""
    allowed = False
    for document in documents:
        for s in _statements(document):
            if not _action_matches(s["action"], action):
                continue
            if not any(fnmatchcase(resource, str(r)) for r in _list(s.get("resource") or [])):
                continue
            if s["effect"] == "deny":
                return False
            allowed = True
    return allowed

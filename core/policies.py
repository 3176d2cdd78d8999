"""The CAM documents of a cross-account migration: the role's trust policy, its policies, the sub-account grant.

One place builds them so that the plan shown to approvers and the calls the bot makes are the same thing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from core.db_kinds import db_kind

BASE_READ_ONLY_POLICIES = ("QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess")
"""Always attached: DTS reads the task side, and the instance list needs CDB read access (guide, step 5)."""

ASSUME_ROLE_ACTION = "name/sts:AssumeRole"
OWNER_TAG = "dtsbot:request"
"""Tag key on every role and policy the bot creates; its value is the id of the request that created it."""


def role_arn(source_uin: str, role_name: str) -> str:
    """The role's resource name as STS and CAM policies write it."""
    return f"qcs::cam::uin/{source_uin}:roleName/{role_name}"


def default_role_name(request_id: str) -> str:
    """The request's own role when no role_name is given: unique per request, valid for CAM and DTS's
    AccountRole (letters, digits, - and _; at most 128)."""
    return f"dtsbot-{request_id}"[:128]


def owner_tags(request_id: str) -> list[dict[str, str]]:
    """CreateRole / CreatePolicy `Tags` that mark the resource as made by the bot for `request_id`."""
    return [{"Key": OWNER_TAG, "Value": request_id}]


def tagged_owner(tags: list[dict[str, str]] | None) -> str | None:
    """The request that created a role or policy, from its tags; None when a person made it."""
    return next((str(t.get("Value")) for t in tags or () if t.get("Key") == OWNER_TAG), None)


def trusted_principal(target_uin: str) -> str:
    """The one principal the role trusts: the target account's root."""
    return f"qcs::cam::uin/{target_uin}:root"


def trust_policy(target_uin: str, external_id: str | None) -> dict[str, Any]:
    """Trust policy letting only the target root assume the role, with the external ID when set."""
    statement: dict[str, Any] = {
        "action": ASSUME_ROLE_ACTION,
        "effect": "allow",
        "principal": {"qcs": [trusted_principal(target_uin)]},
    }
    if external_id:
        statement["condition"] = {"string_equal": {"sts:external_id": external_id}}
    return {"version": "2.0", "statement": [statement]}


def source_policies(db_type: str) -> tuple[str, ...]:
    """Preset read-only policies the role needs for this engine, base ones first, without repeats."""
    names = (*BASE_READ_ONLY_POLICIES, db_kind(db_type).read_only_policy)
    return tuple(dict.fromkeys(names))


def subaccount_grant(source_uin: str, role_name: str) -> dict[str, Any]:
    """Custom policy letting a target sub-account assume exactly this one role (guide, step 7)."""
    return {
        "version": "2.0",
        "statement": [{"effect": "allow", "action": [ASSUME_ROLE_ACTION], "resource": [role_arn(source_uin, role_name)]}],
    }


def grant_policy_name(source_uin: str, role_name: str) -> str:
    """Deterministic name of the sub-account grant, so a retry finds the policy instead of making another.

    CAM allows 128 characters: a name that would be longer ends in a digest of the whole role name instead of
    being cut, so two long role names never share one grant."""
    name = f"dtsbot-assume-{source_uin}-{role_name}"
    if len(name) <= 128:
        return name
    digest = hashlib.sha256(role_name.encode()).hexdigest()[:16]
    return f"{name[:128 - len(digest) - 1]}-{digest}"


def document(policy: dict[str, Any]) -> str:
    """Canonical JSON text of a policy document (stable key order, no spaces) as sent to CAM."""
    return json.dumps(policy, sort_keys=True, separators=(",", ":"))


def generate_external_id() -> str:
    """A strong external ID for requests that give none: 32 URL-safe characters (~190 bits)."""
    return "dtsbot-" + secrets.token_urlsafe(24)


MASK_SHOWN = 4
"""At most this many characters of an external ID are ever shown (its end: generated ones share a prefix)."""


def mask(secret: str | None) -> str:
    """Show an external ID the way people recognise it without being able to reuse it: `…x9Qz`, its last four
    characters; one shorter than 16 as eight dots (neither a few characters nor its length given away)."""
    if not secret:
        return "(none)"
    if len(secret) < 16:  # too short to show any of it: a few hidden characters are guessable
        return "•" * 8
    return f"…{secret[-MASK_SHOWN:]}"

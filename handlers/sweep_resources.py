"""The sweep's cloud side (core/sweep.py decides): list what the bot tagged in each configured account, and
remove one leftover. Reads before every write: a leftover is re-read and its tag checked again right before it
is removed, so a resource a person changed in between is left alone.

Roles: DescribeRoleList (every page), each RoleInfo's `Tags`. Policies: ListPolicies `Scope=Local`, each
StrategyInfo's `Tags`. DTS tasks: DescribeMigrationJobs `TagFilters` with the tag key only (any value), in each
region requests used. A guided account is not listed: the bot makes no CAM calls there.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import Api, CloudClients
from core.config import AccountSettings
from core.sweep import Found, Kind
from handlers.cam_lookup import PAGE, POLICY_MISSING, attached_role_policies, get_role, user_policy_ids
from handlers.closeout_reads import Trade, task_or_none, trade_of, trade_status
from handlers.isolate_task import DECISIONS, Decision
from handlers.task_lookup import REQUEST_TAG

ISOLATE_WAIT_SECONDS = 60.0
"""How long `remove` waits for an isolated task to read `isolated` before it destroys it (else: next sweep)."""


def _pages(api: Api, action: str, params: dict[str, Any], items_key: str = "List") -> Iterable[dict[str, Any]]:
    page = 1
    while True:
        body = api.call(action, {**params, "Page": page, "Rp": PAGE})
        items = body.get(items_key) or []
        yield from items
        if len(items) < PAGE:
            return
        page += 1


def _managed(account: AccountSettings) -> bool:
    return account.access != "guided"


REFUSED_PREFIXES = ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation", "OperationDenied")
"""A listing the account's keys may not make (docs/setup.md gives a source account no DTS and no policy reads)."""


def find(clients: CloudClients, regions: Iterable[str]) -> tuple[list[Found], list[str]]:
    """Every role, policy and DTS task in the configured accounts that carries the bot's tag, and the listings
    the accounts' keys were refused (`account: action (code)`): the sweep reports them and goes on."""
    found: list[Found] = []
    refused: list[str] = []
    for account in clients.settings.accounts:
        if not _managed(account):
            continue
        for action, lister in (("DescribeRoleList", _roles), ("ListPolicies", _policies),
                               ("DescribeMigrationJobs", _tasks)):
            try:
                found += lister(clients, account, regions)
            except TencentCloudSDKException as error:
                if not str(error.get_code()).startswith(REFUSED_PREFIXES):
                    raise
                refused.append(f"{account.name}: {action} ({error.get_code()})")
    return found, refused


def _roles(clients: CloudClients, account: AccountSettings, regions: Iterable[str]) -> list[Found]:
    found = []
    for role in _pages(clients.cam(account.name), "DescribeRoleList", {}):
        owner = policies.tagged_owner(role.get("Tags"))
        if owner:
            found.append(Found(Kind.ROLE, account.name, account.uin, role["RoleName"], owner))
    return found


def _policies(clients: CloudClients, account: AccountSettings, regions: Iterable[str]) -> list[Found]:
    found = []
    for policy in _pages(clients.cam(account.name), "ListPolicies", {"Scope": "Local"}):
        owner = policies.tagged_owner(policy.get("Tags"))
        if owner:
            found.append(Found(Kind.GRANT, account.name, account.uin, policy["PolicyName"], owner,
                               policy_id=int(policy["PolicyId"])))
    return found


def _tasks(clients: CloudClients, account: AccountSettings, regions: Iterable[str]) -> list[Found]:
    found = []
    for region in sorted(set(regions)):
        dts = clients.dts(account.name, region)
        offset = 0
        while True:
            body = dts.call("DescribeMigrationJobs", {"TagFilters": [{"TagKey": REQUEST_TAG}], "Offset": offset,
                                                      "Limit": 100})
            jobs = body.get("JobList") or []
            for job in jobs:
                owner = next((t.get("TagValue") for t in job.get("Tags") or () if t.get("TagKey") == REQUEST_TAG),
                             None)
                if owner:
                    found.append(Found(Kind.TASK, account.name, account.uin, job["JobId"], str(owner), region))
            offset += len(jobs)
            if not jobs or offset >= int(body.get("TotalCount") or 0):
                return found
    return found


def remove(clients: CloudClients, item: Found) -> str:
    """Remove one leftover the sweep judged removable; returns what was done, in a few words."""
    if item.kind is Kind.ROLE:
        return _remove_role(clients.cam(item.account), item)
    if item.kind is Kind.GRANT:
        executor = clients.settings.account(item.account).executor_uin
        return _remove_grant(clients.cam(item.account), item, executor)
    return _remove_task(clients, item)


def _remove_role(cam: Api, item: Found) -> str:
    role = get_role(cam, item.name)
    if role is None:
        return "already gone"
    if policies.tagged_owner(role.get("Tags")) != item.request_id:
        return "left: its tag changed"
    for policy_id in attached_role_policies(cam, item.name).values():
        cam.call("DetachRolePolicy", {"DetachRoleName": item.name, "PolicyId": policy_id})
    cam.call("DeleteRole", {"RoleName": item.name})
    return "deleted"


def _remove_grant(cam: Api, item: Found, executor: str | None) -> str:
    assert item.policy_id is not None
    try:
        policy = cam.call("GetPolicy", {"PolicyId": item.policy_id})
    except TencentCloudSDKException as error:
        if error.get_code() in POLICY_MISSING:
            return "already gone"
        raise
    if policies.tagged_owner(policy.get("Tags")) != item.request_id or policy.get("PolicyName") != item.name:
        return "left: its tag changed"
    if executor and item.policy_id in user_policy_ids(cam, executor):
        cam.call("DetachUserPolicy", {"PolicyId": item.policy_id, "DetachUin": int(executor)})
    cam.call("DeletePolicy", {"PolicyId": [item.policy_id]})
    return "deleted"


def _remove_task(clients: CloudClients, item: Found) -> str:
    dts = clients.dts(item.account, item.region)
    detail = task_or_none(dts, item.name)
    if detail is None or trade_of(detail) is Trade.GONE:
        return "already gone"
    owner = next((t.get("TagValue") for t in detail.get("Tags") or () if t.get("TagKey") == REQUEST_TAG), None)
    if owner != item.request_id:
        return "left: its tag changed"
    if trade_of(detail) is Trade.CHANGING and trade_status(detail) != "isolating":
        return f"left: its billing is {trade_status(detail)} (the next sweep looks again)"
    if trade_of(detail) is Trade.BILLED:
        status = str(detail.get("Status"))
        if DECISIONS.get(status, Decision.WAIT) is not Decision.ISOLATE:
            return f"left: the task is {status} (stop it first)"
        dts.call("IsolateMigrateJob", {"JobId": item.name})
    deadline = time.monotonic() + ISOLATE_WAIT_SECONDS
    while True:
        detail = task_or_none(dts, item.name)
        if detail is None or trade_of(detail) is Trade.GONE:
            return "destroyed (not billed: by its isolation)"
        if trade_of(detail) is Trade.ISOLATED:
            dts.call("DestroyMigrateJob", {"JobId": item.name})
            return "isolated and destroyed"
        if time.monotonic() > deadline:
            return "isolated; destroyed by the next sweep"
        clients.sleep(1.0)


"""Who may decide on a request: each side's approvers, the requester, and the self-approval rule.

Pure rules over the configuration; user groups (S… IDs) are resolved through an injected callable
(the bot passes one that calls Slack's usergroups.users.list), so core never talks to Slack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from core.config import AccountSettings, Settings
from core.i18n import N_, _

SIDES = ("source", "target")
MembersOf = Callable[[str], Iterable[str]]
"""User-group ID (S…) -> the user IDs in it."""


class Sided(Protocol):
    """What the rules read of a request."""

    requester: str
    source_account: str
    target_account: str


def no_groups(_group: str) -> Iterable[str]:
    """Resolver for setups without user groups: every group is empty."""
    return ()


def side_account(settings: Settings, request: Sided, side: str) -> AccountSettings:
    """The configured account whose owner approves `side` ("source" or "target")."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    return settings.account(request.source_account if side == "source" else request.target_account)


def listed(ids: Iterable[str], user: str, members_of: MembersOf) -> bool:
    """Whether `user` is one of `ids`, directly or through a user group (S…) among them."""
    ids = list(ids)
    return user in ids or any(user in set(members_of(group)) for group in ids if group.startswith("S"))


def is_approver(account: AccountSettings, user: str, members_of: MembersOf) -> bool:
    """Whether `user` is one of the account's approvers, directly or through a user group."""
    return listed(account.approvers, user, members_of)


_NOT_APPROVER = {"source": N_("Only the approvers of {account} ({uin}) may approve the source side: {approvers}."),
                 "target": N_("Only the approvers of {account} ({uin}) may approve the target side: {approvers}.")}
_SELF_APPROVAL = {
    "source": N_("You requested this migration, so you may not approve its source side yourself ({account} does "
                 "not allow self-approval)."),
    "target": N_("You requested this migration, so you may not approve its target side yourself ({account} does "
                 "not allow self-approval)."),
}


def approval_refusal(
    settings: Settings, request: Sided, side: str, user: str, members_of: MembersOf
) -> str | None:
    """Why `user` may not approve `side` of `request`, or None when they may."""
    account = side_account(settings, request, side)
    if not is_approver(account, user, members_of):
        return _(_NOT_APPROVER[side], account=account.name, uin=account.uin, approvers=describe(account.approvers))
    if user == request.requester and not account.allow_self_approval:
        return _(_SELF_APPROVAL[side], account=account.name)
    return None


def may_decide(settings: Settings, request: Sided, user: str, members_of: MembersOf) -> bool:
    """Whether `user` is an approver of either side."""
    return any(is_approver(side_account(settings, request, side), user, members_of) for side in SIDES)


def describe(approvers: Iterable[str]) -> str:
    """Approvers as plain text (the bot renders; core writes no markup): `U0ABC, user group S0XYZ`."""
    return ", ".join(a if a[0] in "UW" else _("user group {id}", id=a) for a in approvers)

"""Who may decide on a request: each side's approvers, the requester, and the self-approval rule.

Pure rules over the configuration; user groups (S… IDs) and e-mail addresses are resolved through an injected
callable (the bot passes one that calls Slack's usergroups.users.list and users.lookupByEmail), so core never
talks to Slack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from core.config import AccountSettings, Settings, is_email
from core.i18n import N_, _

SIDES = ("source", "target")
MembersOf = Callable[[str], Iterable[str]]
"""User-group ID (S…) or e-mail address -> the user IDs it stands for; raises MembersUnknown when it cannot tell."""


class MembersUnknown(Exception):
    """Slack could not say who an entry stands for (an outage, a missing scope): not "nobody", ask again later."""

    def __init__(self, entry: str, reason: str | None) -> None:
        super().__init__(f"{entry}: {reason}")
        self.entry = entry
        self.reason = reason


class Sided(Protocol):
    """What the rules read of a request (read-only: a stored request or a proposed one)."""

    @property
    def requester(self) -> str: ...
    @property
    def source_account(self) -> str: ...
    @property
    def target_account(self) -> str: ...


def no_groups(_group: str) -> Iterable[str]:
    """Resolver for setups without user groups: every group is empty."""
    return ()


def side_account(settings: Settings, request: Sided, side: str) -> AccountSettings:
    """The configured account whose owner approves `side` ("source" or "target")."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    return settings.account(request.source_account if side == "source" else request.target_account)


def resolved(entry: str) -> bool:
    """Whether an approver/requester entry names users only through Slack (a user group or an e-mail address)."""
    return entry.startswith("S") or is_email(entry)


def listed(ids: Iterable[str], user: str, members_of: MembersOf) -> bool:
    """Whether `user` is one of `ids`, directly or through a user group (S…) or e-mail address among them.

    A known yes wins: MembersUnknown (Slack could not tell for an entry) is raised only when no entry Slack could
    answer for names the user."""
    ids = list(ids)
    if user in ids:
        return True
    return _any_known(lambda entry: user in set(members_of(entry)), [entry for entry in ids if resolved(entry)])


def _any_known(check: Callable[[str], bool], items: Iterable[str]) -> bool:
    """Whether `check` holds for one of `items`; when none does, the first MembersUnknown one raised is re-raised."""
    unknown: MembersUnknown | None = None
    for item in items:
        try:
            if check(item):
                return True
        except MembersUnknown as error:
            unknown = unknown or error
    if unknown is not None:
        raise unknown
    return False


def is_approver(account: AccountSettings, user: str, members_of: MembersOf) -> bool:
    """Whether `user` is one of the account's approvers, directly or through a user group."""
    return listed(account.approvers, user, members_of)


_NOT_APPROVER = {"source": N_("Only the approvers of {account} ({uin}) may approve the source side."),
                 "target": N_("Only the approvers of {account} ({uin}) may approve the target side.")}
"""Refusals name the side, never the people on it (their IDs and e-mail addresses stay in app.yaml)."""
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
        return _(_NOT_APPROVER[side], account=account.name, uin=account.uin)
    if user == request.requester and not account.allow_self_approval:
        return _(_SELF_APPROVAL[side], account=account.name)
    return None


_SAME_PERSON = {
    "source": N_("You approved the target side of {id}: its source side needs another person, so that two people "
                 "agree (approvals.same_person_both_sides is off)."),
    "target": N_("You approved the source side of {id}: its target side needs another person, so that two people "
                 "agree (approvals.same_person_both_sides is off)."),
}


def other_side(side: str) -> str:
    """The side that is not `side`."""
    return "target" if side == "source" else "source"


def two_person_refusal(settings: Settings, request_id: str, side: str, user: str,
                       approved_by: Mapping[str, str]) -> str | None:
    """Why `user` may not approve `side` because they approved the other side of the same plan revision
    (`approved_by`: side -> Slack user ID), or None. The clicking user is compared, not the lists: a user in
    both sides' lists, groups or addresses is still one person. `approvals.same_person_both_sides` lifts it."""
    if settings.approvals.same_person_both_sides or approved_by.get(other_side(side)) != user:
        return None
    return _(_SAME_PERSON[side], id=request_id)


def one_person(approved_by: Mapping[str, str]) -> bool:
    """Whether both sides of a plan revision were approved by the same Slack user."""
    return all(side in approved_by for side in SIDES) and approved_by["source"] == approved_by["target"]


def may_decide(settings: Settings, request: Sided, user: str, members_of: MembersOf) -> bool:
    """Whether `user` is an approver of either side (a known yes on one side wins over an unknown on the other).

    A side that lists the user by ID is asked first: it needs no Slack call, and the form a click opens must not
    wait for another side's e-mail lookups (Slack's trigger_id lasts 3 s)."""
    by_id = sorted(SIDES, key=lambda side: user not in side_account(settings, request, side).approvers)
    return _any_known(lambda side: is_approver(side_account(settings, request, side), user, members_of), by_id)

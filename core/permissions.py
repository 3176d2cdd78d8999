"""Who may do what to a request: one table (`PERMISSIONS`, also in docs/usage.md) and one check (`refusal`).

Every decision a person takes in Slack goes through `refusal`; the rules are pure functions of the
configuration, the request and the user, with user groups (S… IDs) resolved through an injected callable.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.approvals import (
    MembersOf,
    Sided,
    approval_refusal,
    is_approver,
    listed,
    may_decide,
    side_account,
)
from core.config import Settings
from core.i18n import N_, _
from core.workflow import ACCESS_STEPS, State, cancel_target, retry_target


class Action(StrEnum):
    REQUEST = "request"
    APPROVE_SOURCE = "approve_source"
    APPROVE_TARGET = "approve_target"
    EDIT = "edit"
    REJECT = "reject"
    CANCEL = "cancel"
    """Cancel before a DTS task may run (nothing in the cloud yet, or only the access to revoke)."""
    STOP = "stop"
    """Cancel once a DTS task may run: StopMigrateJob, then revoke."""
    COMPLETE = "complete"
    RETRY_ACCESS = "retry_access"
    """Retry after an access step failed: it re-creates access in the source account."""
    RETRY = "retry"
    RETRY_TASK = "retry_task"
    """*Retry task* after DTS stopped migrating with an error: ResumeMigrateJob in the target account."""
    REVERIFY = "reverify"
    GUIDED_SOURCE = "guided_source"
    """Guided source account: *Role created — verify*, *Show me the full steps*, *Role deleted — check*."""
    GUIDED_TARGET = "guided_target"
    """Guided target account: *Grant created — verify*, *Show me the full steps* of the grant."""
    CHECK_DATA = "check_data"
    """*Check data*: run DTS's consistency check (a compare task) on a ready task."""
    OVERRIDE_SOURCE = "override_source"
    """The source side's half of overriding the cutover gate's missing evidence (with a reason)."""
    OVERRIDE_TARGET = "override_target"
    """The target side's half of overriding the cutover gate's missing evidence (with a reason)."""
    UNDO_CLOSEOUT = "undo_closeout"
    """*Undo close-out* during retention: RecoverMigrateJob on the isolated task in the target account."""
    CLEAN_UP_SOURCE = "clean_up_source"
    """*Clean up* a tagged leftover (role, grant) of a finished or unknown request in the source account."""
    CLEAN_UP_TARGET = "clean_up_target"
    """*Clean up* a tagged leftover (grant policy, DTS task) of a finished or unknown request in the target account."""
    PAUSE = "pause"
    """*Pause* a running DTS task (PauseMigrateJob)."""
    CONTINUE = "continue"
    """*Continue* a paused DTS task (ContinueMigrateJob)."""
    THROTTLE = "throttle"
    """*Throttle*: change a running task's rate limits (ModifyMigrateRateLimit); it protects the source database."""
    SNOOZE = "snooze"
    """*Snooze* a request's alerts (core/alerts.py) from the alert's DM."""


class Who(StrEnum):
    REQUESTERS = "anyone in the channel, or only `requesters` (top-level and each account's) when set"
    SIDE_APPROVERS = ("that side's approvers, never the requester unless the account has `allow_self_approval`, never "
                      "whoever approved the other side of the same plan revision unless "
                      "`approvals.same_person_both_sides`")
    REQUESTER = "the requester"
    ANY_APPROVER = "any approver of either side"
    REQUESTER_OR_APPROVER = "the requester or any approver"
    TARGET_APPROVERS = "the target account's approvers (the requester too when a target approver)"
    SOURCE_APPROVERS = "the source account's approvers"


PERMISSIONS: dict[Action, Who] = {
    Action.REQUEST: Who.REQUESTERS,
    Action.APPROVE_SOURCE: Who.SIDE_APPROVERS,
    Action.APPROVE_TARGET: Who.SIDE_APPROVERS,
    Action.EDIT: Who.REQUESTER,
    Action.REJECT: Who.ANY_APPROVER,
    Action.CANCEL: Who.REQUESTER_OR_APPROVER,
    Action.STOP: Who.TARGET_APPROVERS,
    Action.COMPLETE: Who.TARGET_APPROVERS,
    Action.RETRY_ACCESS: Who.SOURCE_APPROVERS,
    Action.RETRY: Who.REQUESTER_OR_APPROVER,
    Action.RETRY_TASK: Who.TARGET_APPROVERS,
    Action.REVERIFY: Who.REQUESTER_OR_APPROVER,
    Action.GUIDED_SOURCE: Who.SOURCE_APPROVERS,
    Action.GUIDED_TARGET: Who.TARGET_APPROVERS,
    Action.CHECK_DATA: Who.ANY_APPROVER,
    Action.OVERRIDE_SOURCE: Who.SOURCE_APPROVERS,
    Action.OVERRIDE_TARGET: Who.TARGET_APPROVERS,
    Action.UNDO_CLOSEOUT: Who.TARGET_APPROVERS,
    Action.CLEAN_UP_SOURCE: Who.SOURCE_APPROVERS,
    Action.CLEAN_UP_TARGET: Who.TARGET_APPROVERS,
    Action.PAUSE: Who.ANY_APPROVER,
    Action.CONTINUE: Who.ANY_APPROVER,
    Action.THROTTLE: Who.ANY_APPROVER,
    Action.SNOOZE: Who.ANY_APPROVER,
}


@dataclass(frozen=True)
class Proposed:
    """A request not stored yet, as the rules read it (the `request` action)."""

    requester: str
    source_account: str
    target_account: str


def cancel_action(state: str, failed_step: str | None, has_task: bool) -> Action:
    """STOP when the cancel goes through stopping the DTS task, else CANCEL."""
    return Action.STOP if cancel_target(state, failed_step, has_task) is State.STOPPING_TASK else Action.CANCEL


def guided_action(side: str) -> Action:
    """The guided-mode action of the side whose owner does the CAM steps by hand ("source" or "target")."""
    return Action.GUIDED_TARGET if side == "target" else Action.GUIDED_SOURCE


def retry_action(failed_step: str | None) -> Action:
    """RETRY_ACCESS when the failed step set up the cross-account access, RETRY_TASK when DTS stopped migrating
    (the retry resumes the task), else RETRY."""
    if failed_step and retry_target(failed_step) is State.RESUMING_TASK:
        return Action.RETRY_TASK
    return Action.RETRY_ACCESS if failed_step and State(failed_step) in ACCESS_STEPS else Action.RETRY


def refusal(settings: Settings, action: Action, request: Sided, user: str, members_of: MembersOf) -> str | None:
    """Why `user` may not take `action` on `request` (PERMISSIONS), or None when they may."""
    who = PERMISSIONS[action]
    what = _(_WORDS[action])
    if who is Who.SIDE_APPROVERS:
        return approval_refusal(settings, request, action.value.removeprefix("approve_"), user, members_of)
    if who is Who.REQUESTERS:
        return _requester_refusal(settings, request, user, members_of)
    if who is Who.REQUESTER:
        return None if user == request.requester else _("Only the requester may {what}.", what=what)
    if who is Who.REQUESTER_OR_APPROVER and user == request.requester:
        return None  # decided without asking Slack who the approvers are
    approver = may_decide(settings, request, user, members_of)
    if who is Who.ANY_APPROVER:
        return None if approver else _("Only an approver of either side may {what}.", what=what)
    if who is Who.REQUESTER_OR_APPROVER:
        return None if approver else _("Only the requester or an approver may {what}.", what=what)
    side = "target" if who is Who.TARGET_APPROVERS else "source"
    account = side_account(settings, request, side)
    if is_approver(account, user, members_of):
        return None
    return _("Only the approvers of {account} ({uin}) may {what}.", account=account.name, uin=account.uin,
             what=what)


_WORDS = {
    Action.REQUEST: N_("open a migration request"), Action.APPROVE_SOURCE: N_("approve the source side"),
    Action.APPROVE_TARGET: N_("approve the target side"), Action.EDIT: N_("edit it"), Action.REJECT: N_("reject it"),
    Action.CANCEL: N_("cancel it"), Action.STOP: N_("stop its running DTS task and cancel it"),
    Action.COMPLETE: N_("complete it (the cutover)"),
    Action.RETRY_ACCESS: N_("retry it (the retry re-creates the access in the source account)"),
    Action.RETRY: N_("retry it"), Action.RETRY_TASK: N_("retry its DTS task (ResumeMigrateJob)"),
    Action.REVERIFY: N_("re-verify it"),
    Action.GUIDED_SOURCE: N_("act on the source account's hand-made CAM steps"),
    Action.GUIDED_TARGET: N_("act on the target account's hand-made CAM grant"),
    Action.CHECK_DATA: N_("run the consistency check"),
    Action.OVERRIDE_SOURCE: N_("override the cutover gate for the source side"),
    Action.OVERRIDE_TARGET: N_("override the cutover gate for the target side"),
    Action.UNDO_CLOSEOUT: N_("undo the close-out of its DTS task (RecoverMigrateJob)"),
    Action.CLEAN_UP_SOURCE: N_("clean up the leftover in the source account"),
    Action.CLEAN_UP_TARGET: N_("clean up the leftover in the target account"),
    Action.PAUSE: N_("pause its DTS task"), Action.CONTINUE: N_("continue its paused DTS task"),
    Action.THROTTLE: N_("change its DTS task's rate limits"), Action.SNOOZE: N_("snooze its alerts"),
}


def _requester_refusal(settings: Settings, request: Sided, user: str, members_of: MembersOf) -> str | None:
    """Every `requesters` list that applies (top-level, the source's, the target's) must name the user."""
    lists = [(_("requesters"), settings.requesters)] + [
        (_("{account}'s requesters", account=account.name), account.requesters)
        for account in (settings.account(request.source_account), settings.account(request.target_account))
    ]
    for name, allowed in lists:
        if allowed and not listed(allowed, user, members_of):
            return _("Only the configured {who} may open a migration request here.", who=name)
    return None


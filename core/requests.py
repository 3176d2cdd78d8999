"""Domain operations on migration requests: open, approve, reject, cancel, edit, expire.

Each operation is one database transaction that changes the request *and* queues its channel notices in the
outbox (storage.outbox), so a notice exists exactly when the change does. Refusals are audited and change
nothing else. Nothing here talks to Slack: notices are plain text payloads the bot renders and escapes,
`{"event", "text", "user"?, "actions"?}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import approvals
from core.approvals import MembersOf, no_groups
from core.config import Settings
from core.policies import generate_external_id
from core.workflow import CANCELLABLE, ConcurrentUpdate, State, cancel_target, retry_target
from storage import outbox, repository
from storage.db import session_scope
from storage.models import MigrationRequest, utcnow

EDITABLE_FIELDS = (
    "source_account", "source_region", "source_instance", "target_account", "target_region",
    "target_instance", "db_type", "role_name", "external_id", "executor", "migrate_type", "objects",
)

RESUME_FROM = {"reverify": State.VERIFY_FAILED, "complete": State.READY_TO_COMPLETE, "retry": State.FAILED}
RESUME_TO = {"reverify": State.VERIFYING, "complete": State.COMPLETING}
Resumer = Callable[[Session, MigrationRequest, str], Any]
"""Moves a request back into the engine's hands inside the caller's transaction: (session, request, user)."""


@dataclass(frozen=True)
class Decision:
    """What an operation did: `ok`, a sentence for the person who asked, and the request as it now is."""

    ok: bool
    message: str
    request: MigrationRequest | None = None
    changed: bool = False


def _notice(session: Session, request: MigrationRequest, key: str, event: str, text: str,
            user: str | None = None, actions: Sequence[str] = (), detail: str | None = None) -> None:
    payload: dict[str, Any] = {"event": event, "text": text}
    if detail:
        payload["detail"] = detail  # a person's own words, shown verbatim
    if user:
        payload["user"] = user
    if actions:
        payload["actions"] = list(actions)
    outbox.enqueue(session, request.id, f"{request.id}:{key}", "thread", payload)
    outbox.request_refresh(session, request.id)


def _locked(session: Session, request_id: str) -> MigrationRequest | None:
    """The request as it is now (one SELECT, even if the session already holds it), row-locked until commit on
    PostgreSQL (SQLite transactions are already exclusive)."""
    return session.exec(
        select(MigrationRequest).where(MigrationRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()


class MigrationRequests:
    """The request operations the Slack surface calls; `on_approved(id)` kicks the workflow engine."""

    def __init__(self, db: Engine, settings: Settings, on_approved: Callable[[str], None] = lambda _id: None,
                 members_of: MembersOf = no_groups, resumers: Mapping[str, Resumer] | None = None) -> None:
        """`resumers`: the workflow engine's request_reverify/request_complete/request_retry by action."""
        self.db = db
        self.settings = settings
        self.on_approved = on_approved
        self.members_of = members_of
        self.resumers = dict(resumers or {})

    def _memberships(self, user: str) -> MembersOf:
        """`user`'s approver user groups, resolved now (Slack, cached) so that rules checked under the row lock
        never wait on Slack; a resolver that answers from this alone."""
        groups = {g for account in self.settings.accounts for g in account.approvers if g.startswith("S")}
        member_of = {group for group in groups if user in set(self.members_of(group))}
        return lambda group: (user,) if group in member_of else ()

    # -- reading ---------------------------------------------------------------------------------------
    def get(self, request_id: str) -> MigrationRequest | None:
        """The request with this id (case-insensitive, surrounding spaces ignored), or None."""
        with session_scope(self.db) as session:
            return repository.get_request(session, request_id.strip().lower())

    def open_requests(self, limit: int = 20) -> Sequence[MigrationRequest]:
        """Requests not finished yet, newest first."""
        with session_scope(self.db) as session:
            return repository.list_requests(session, limit=limit)

    # -- opening and editing ---------------------------------------------------------------------------
    def columns(self, fields: Mapping[str, str | None]) -> dict[str, Any]:
        """Validated fields (validation.validate_request) as request columns, with the accounts' UINs."""
        values = {name: fields.get(name) for name in EDITABLE_FIELDS}
        values["source_uin"] = self.settings.account(str(values["source_account"])).uin
        values["target_uin"] = self.settings.account(str(values["target_account"])).uin
        return values

    def open(self, fields: Mapping[str, str | None], requester: str, dedupe_key: str | None = None) -> Decision:
        """Store a validated request and queue its request message; a repeated delivery finds the first one."""
        values = self.columns(fields)
        values["external_id"] = values["external_id"] or generate_external_id()
        with session_scope(self.db) as session:
            request, created = repository.create_request(session, values, requester, dedupe_key)
            if created:
                outbox.enqueue(session, request.id, f"{request.id}:request", "request", {"event": "requested"})
                repository.audit(session, "request", "ok", request.id, actor=requester, action="open")
        return Decision(True, f"Request {request.id} created.", request, changed=created)

    def edit(self, request_id: str, user: str, fields: Mapping[str, str | None]) -> Decision:
        """The requester changes the request before both sides approved; earlier approvals become void."""
        values = self.columns(fields)
        with session_scope(self.db) as session:
            request = _locked(session, request_id)
            refusal = self._edit_refusal(request, user)
            if refusal:
                return self._refuse(session, request_id, user, "edit", refusal, request)
            assert request is not None
            values["external_id"] = values["external_id"] or request.external_id
            if all(getattr(request, k) == v for k, v in values.items()):
                return Decision(True, f"Nothing changed in {request.id}.", request)
            repository.update_request(session, request, revision=request.revision + 1, **values)
            repository.audit(session, "request", "ok", request.id, actor=user, action="edit",
                             detail=f"revision {request.revision}")
            _notice(session, request, f"edited:{request.revision}", "edited",
                    f"Edited (plan revision {request.revision}); earlier approvals are void, please approve again.",
                    user=user)
        return Decision(True, f"{request.id} updated; approvals start again.", request, changed=True)

    def may_edit(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the edit form now (refusals audited)."""
        with session_scope(self.db) as session:
            request = repository.get_request(session, request_id)
            refusal = self._edit_refusal(request, user)
            if refusal:
                return self._refuse(session, request_id, user, "edit", refusal, request)
        return Decision(True, "", request)

    def may_reject(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the reject form now: an approver, while approvals are open (refusals audited)."""
        current = self.get(request_id)
        if current is None:
            return Decision(False, "No such request.")
        permitted = approvals.may_decide(self.settings, current, user, self.members_of)
        with session_scope(self.db) as session:
            if not permitted:
                return self._refuse(session, current.id, user, "reject",
                                    f"Only an approver of either side may reject {current.id}.", current)
            if current.state != State.REQUESTED:
                return self._refuse(session, current.id, user, "reject",
                                    f"{current.id} is {current.state}; it can no longer be rejected.", current)
        return Decision(True, "", current)

    def _edit_refusal(self, request: MigrationRequest | None, user: str) -> str | None:
        if request is None:
            return "No such request."
        if user != request.requester:
            return f"Only the requester of {request.id} may edit it."
        if request.state != State.REQUESTED:
            return f"{request.id} is {request.state}; it can be edited only until both sides approved."
        return None

    # -- deciding --------------------------------------------------------------------------------------
    def approve(self, request_id: str, side: str, user: str, revision: int | None = None) -> Decision:
        """Record `side`'s approval of the plan revision shown; both sides approved → approved + kick."""
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, "No such request.")
            refusal = approvals.approval_refusal(self.settings, request, side, user, members_of)
            if refusal:
                return self._refuse(session, request.id, user, f"approve_{side}", refusal, request)
            already = repository.approvals_for(session, request).get(side)
            if already is not None and (revision is None or revision == request.revision):
                return Decision(True, f"The {side} side of {request.id} is already approved "
                                      f"(by {already.user_id}).", request)
            refusal = self._state_refusal(request, revision)
            if refusal:
                return self._refuse(session, request.id, user, f"approve_{side}", refusal, request)
            if not repository.record_approval(session, request, side, user):
                return Decision(True, f"The {side} side of {request.id} is already approved.", request)
            repository.audit(session, "approval", "ok", request.id, actor=user, action=f"approve_{side}",
                             detail=f"revision {request.revision}")
            both = set(repository.approvals_for(session, request)) >= set(approvals.SIDES)
            if both:
                repository.transition(session, request, State.APPROVED)
            _notice(session, request, f"approved:{request.revision}:{side}", "approved_side",
                    f"{side.capitalize()} side approved" + (": both sides approved." if both else "."), user=user)
        if both:
            self.on_approved(request.id)
        return Decision(True, f"Approved the {side} side of {request.id}.", request, changed=True)

    def _state_refusal(self, request: MigrationRequest, revision: int | None) -> str | None:
        if request.state != State.REQUESTED:
            return f"{request.id} is {request.state}; it no longer takes approvals."
        if revision is not None and revision != request.revision:
            return (f"The plan of {request.id} changed since you saw it (revision {revision}, now "
                    f"{request.revision}); approve the current message.")
        return None

    def reject(self, request_id: str, user: str, reason: str) -> Decision:
        """An approver of either side turns the request down, with a reason everyone sees."""
        return self._close(request_id, user, State.REJECTED, "reject", frozenset({State.REQUESTED}),
                           "Rejected. Reason:", requester_may=False, detail=reason.strip()[:2000] or "(none given)",
                           facts={"reject_reason": reason.strip()[:2000]})

    def cancel(self, request_id: str, user: str) -> Decision:
        """The requester or an approver cancels before the task runs (workflow.CANCELLABLE).

        Once the bot has touched the cloud, the request goes to `cancelling` and the engine revokes access.
        """
        current = self.get(request_id)
        goal = cancel_target(current.state) if current and current.state in CANCELLABLE else State.CANCELLED
        text = "Cancelled." if goal is State.CANCELLED else "Cancelled: revoking the cross-account access."
        decision = self._close(request_id, user, goal, "cancel", frozenset(
            s for s in CANCELLABLE if cancel_target(s) is goal), text, requester_may=True)
        if decision.changed and goal is State.CANCELLING:
            self.on_approved(request_id)  # the engine's kick: revoke now, not at the next poll
        return decision

    def resume(self, request_id: str, user: str, action: str) -> Decision:
        """Re-verify, complete or retry: move the request back into the engine's hands and kick it.

        The requester or an approver may; the engine picks the request up from the new state.
        """
        if action not in RESUME_FROM:
            raise ValueError(f"unknown action {action!r}")
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, "No such request.")
            if user != request.requester and not approvals.may_decide(self.settings, request, user, members_of):
                return self._refuse(session, request.id, user, action,
                                    f"Only the requester or an approver may {action} {request.id}.", request)
            if request.state != RESUME_FROM[action]:
                return self._refuse(session, request.id, user, action,
                                    f"{request.id} is {request.state}; {action} applies only when it is "
                                    f"{RESUME_FROM[action]}.", request)
            goal = (retry_target(request.failed_step) if request.failed_step else None) if action == "retry" \
                else RESUME_TO[action]
            if goal is None:
                return self._refuse(session, request.id, user, action,
                                    f"{request.id} does not say which step failed; it cannot be retried.", request)
            decide = self.resumers.get(action)
            if decide is not None:  # the workflow engine's own decision (it kicks itself after the commit)
                decide(session, request, user)
            else:
                repository.transition(session, request, goal, next_run_at=None, last_error=None)
                repository.audit(session, "request", "ok", request.id, actor=user, action=action)
            _notice(session, request, f"{action}:{request.version}", action, f"{action.capitalize()} requested.",
                    user=user)
        if decide is None:
            self.on_approved(request.id)
        return Decision(True, f"{action.capitalize()} of {request.id} requested.", request, changed=True)

    def verify_owner_steps(self, request_id: str, user: str) -> Decision:
        """*Role created — verify* (guided mode): an approver of the side whose owner had the steps says they are
        done; the engine runs the next step (the preflight proves the chain before anything is bought)."""
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, "No such request.")
            side = request.facts.get("guided_side") or "source"
            account = approvals.side_account(self.settings, request, side)
            if not approvals.is_approver(account, user, members_of):
                return self._refuse(session, request.id, user, "guided_verify",
                                    f"Only the approvers of {account.name} ({account.uin}) may say its CAM steps are "
                                    f"done: {approvals.describe(account.approvers)}.", request)
            if request.state != State.AWAITING_OWNER:
                return self._refuse(session, request.id, user, "guided_verify",
                                    f"{request.id} is {request.state}; verify applies only while it waits for "
                                    "the owner's CAM steps.", request)
            decide = self.resumers.get("guided_verify")
            if decide is not None:
                decide(session, request, user)
            else:
                goal = State(request.facts.get("guided_next") or State.PREFLIGHT)
                repository.transition(session, request, goal, next_run_at=None, last_error=None)
                repository.audit(session, "request", "ok", request.id, actor=user, action="guided_verify")
            _notice(session, request, f"guided_verify:{request.version}", "guided_verify",
                    f"{account.name} steps done: verifying from the target side.", user=user)
        if decide is None:
            self.on_approved(request.id)
        return Decision(True, f"Verifying {request.id}: the target assumes the role and lists the source instance; "
                              "nothing is bought before that passes.", request, changed=True)

    def _close(self, request_id: str, user: str, goal: State, action: str, allowed: frozenset[State],
               text: str, requester_may: bool, facts: dict[str, Any] | None = None,
               detail: str | None = None) -> Decision:
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, "No such request.")
            if not ((requester_may and user == request.requester)
                    or approvals.may_decide(self.settings, request, user, members_of)):
                who = "the requester or an approver" if requester_may else "an approver of either side"
                return self._refuse(session, request.id, user, action, f"Only {who} may {action} {request.id}.",
                                    request)
            if request.state == goal:
                return Decision(True, f"{request.id} is already {goal}.", request)
            if request.state not in allowed:
                return self._refuse(session, request.id, user, action,
                                    f"{request.id} is {request.state}; it can no longer be {goal}.", request)
            changes = {"facts": {**request.facts, **facts}} if facts else {}
            repository.transition(session, request, goal, **changes)
            repository.audit(session, "request", "ok", request.id, actor=user, action=action,
                             detail=(detail or text)[:2000])
            _notice(session, request, str(goal), str(goal), text, user=user, detail=detail)
        return Decision(True, f"{request.id} {goal}.", request, changed=True)

    def _refuse(self, session: Session, request_id: str, user: str, action: str, why: str,
                request: MigrationRequest | None) -> Decision:
        """Audit a refused decision; the transaction then commits only that entry."""
        repository.audit(session, "request", "refused", request_id if request else None, actor=user,
                         action=action, detail=why[:2000])
        return Decision(False, why, request)

    # -- expiry ----------------------------------------------------------------------------------------
    def expire_overdue(self, now: datetime | None = None) -> list[str]:
        """Expire requests not fully approved within `scheduler.approval_expiry_hours`; returns their ids."""
        hours = self.settings.scheduler.approval_expiry_hours
        cutoff = (now or utcnow()) - timedelta(hours=hours)
        with session_scope(self.db) as session:
            ids = session.exec(
                select(MigrationRequest.id).where(MigrationRequest.state == State.REQUESTED.value,
                                                  col(MigrationRequest.created_at) < cutoff)
            ).all()
        expired = []
        for request_id in ids:
            with session_scope(self.db) as session:
                request = _locked(session, request_id)
                if request is None or request.state != State.REQUESTED:
                    continue
                try:
                    repository.transition(session, request, State.EXPIRED)
                except ConcurrentUpdate:
                    continue
                repository.audit(session, "request", "ok", request.id, action="expire")
                _notice(session, request, "expired", "expired",
                        f"Expired: not approved by both sides within {hours:g} hours. Open a new request to retry.")
                expired.append(request_id)
        return expired

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

from core import approvals, cutover, holds, plan, validation
from core.approvals import MembersOf, no_groups
from core.closeout_runner import request_undo
from core.config import Settings
from core.home import Home, home_for
from core.i18n import N_, _, for_channel
from core.logins import DatabaseLogins
from core.permissions import Action, Proposed, cancel_action, guided_action, refusal, retry_action
from core.policies import default_role_name, generate_external_id
from core.workflow import (
    CANCELLABLE,
    CANCELLING_STATES,
    State,
    cancel_target,
    check_transition,
    retry_target,
)
from storage import outbox, repository
from storage.db import session_scope
from storage.facts import Facts
from storage.models import MigrationRequest, utcnow
from storage.repository import ConcurrentUpdate

EDITABLE_FIELDS = (
    "source_account", "source_region", "source_instance", "target_account", "target_region",
    "target_instance", "db_type", "role_name", "external_id", "executor", "migrate_type", "objects",
    "write_mode", "start_at", "cutover_at", "read_only_target",
)

_CANCEL_TEXT = {
    State.CANCELLED: N_("Cancelled."),
    State.CANCELLING: N_("Cancelled: revoking the cross-account access."),
    State.STOPPING_TASK: N_("Cancelling: stopping the DTS task; the access is revoked once DTS reports it stopped."),
}
_APPROVED_TEXT = {  # (side, both sides approved now) -> the channel's notice
    ("source", False): N_("Source side approved."), ("target", False): N_("Target side approved."),
    ("source", True): N_("Source side approved: both sides approved."),
    ("target", True): N_("Target side approved: both sides approved."),
}
_APPROVED_REPLY = {"source": N_("Approved the source side of {id}."), "target": N_("Approved the target side of {id}.")}
_ALREADY_APPROVED = {"source": N_("The source side of {id} is already approved."),
                     "target": N_("The target side of {id} is already approved.")}
_ALREADY_APPROVED_BY = {"source": N_("The source side of {id} is already approved (by {user})."),
                        "target": N_("The target side of {id} is already approved (by {user}).")}
_NO_LONGER = {"reject": N_("{id} is {state}; it can no longer be rejected."),
              "cancel": N_("{id} is {state}; it can no longer be cancelled.")}
_RESUMED_TEXT = {"reverify": N_("Re-verify requested."), "complete": N_("Complete requested."),
                 "retry": N_("Retry requested."), "retry_task": N_("Retry of the DTS task requested."),
                 "pause": N_("Pause requested (PauseMigrateJob)."),
                 "continue": N_("Continue requested (ContinueMigrateJob).")}
_RESUMED_REPLY = {"reverify": N_("Re-verify of {id} requested."), "complete": N_("Complete of {id} requested."),
                  "retry": N_("Retry of {id} requested."), "retry_task": N_("Retry of {id}'s DTS task requested."),
                  "pause": N_("Pause of {id} requested."), "continue": N_("Continue of {id} requested.")}
RESUME_FROM = {"reverify": State.VERIFY_FAILED, "complete": State.READY_TO_COMPLETE, "retry": State.FAILED,
               "retry_task": State.FAILED, "pause": State.RUNNING, "continue": State.PAUSED}
RETRIES = frozenset({"retry", "retry_task"})
"""The decisions that send a failed request back to `workflow.retry_target` of its failed step."""
RESUME_TO = {"reverify": State.VERIFYING, "complete": State.COMPLETING, "pause": State.PAUSING,
             "continue": State.CONTINUING}
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


def _transition(session: Session, request: MigrationRequest, goal: State, **changes: Any) -> None:
    """Move the request to `goal` if the workflow allows it from its state, under the version read."""
    repository.update_request(session, request, state=check_transition(request.state, goal).value, **changes)


def _locked(session: Session, request_id: str) -> MigrationRequest | None:
    """The request as it is now (one SELECT, even if the session already holds it), row-locked until commit on
    PostgreSQL (SQLite transactions are already exclusive)."""
    return session.exec(
        select(MigrationRequest).where(MigrationRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _role_details(session: Session, request: MigrationRequest) -> None:
    """Queue what CAM said about an existing role for the source approvers alone (a private notice): until the
    source side approves, the channel's plan says only "use existing role" (core.plan.plan_for)."""
    if (request.facts.role_plan or {}).get("role") in plan.EXISTING_ROLE:
        outbox.enqueue(session, request.id, f"{request.id}:role_details:{request.revision}", "private",
                       {"event": "role_details"})


def _delivered(session: Session, dedupe_key: str) -> bool:
    """Whether a request was already opened by this delivery (a Slack retry finds it, not a conflict)."""
    return session.exec(select(MigrationRequest.id).where(MigrationRequest.dedupe_key == dedupe_key)).first() is not None


def _cancel_goal(request: MigrationRequest) -> State | None:
    """Where a cancel takes the request: cancelled, cancelling, or stopping_task first (None: not cancellable)."""
    if request.state not in CANCELLABLE:
        return None
    return cancel_target(request.state, request.failed_step, request.job_id is not None)


class MigrationRequests:
    """The request operations the Slack surface calls; `run_now(id)` has the workflow engine run the request now
    (after an approval, a cancel, a retry), not at its next poll."""

    def __init__(self, db: Engine, settings: Settings, run_now: Callable[[str], None] = lambda _id: None,
                 members_of: MembersOf = no_groups, resumers: Mapping[str, Resumer] | None = None,
                 inspect_role: Callable[[MigrationRequest], dict[str, Any]] | None = None,
                 logins: DatabaseLogins | None = None) -> None:
        """`resumers`: the workflow engine's request_reverify/request_complete/request_retry by action;
        `inspect_role`: one CAM read of a named role for the plan (handlers.role_check), None: not read;
        `logins`: the database logins both instances need before a request is accepted."""
        self.db = db
        self.logins = logins or DatabaseLogins(settings)
        self.inspect_role = inspect_role
        self.settings = settings
        self.run_now = run_now
        self.members_of = members_of
        self.resumers = dict(resumers or {})

    def memberships(self, user: str) -> MembersOf:
        """`user`'s approver and requester groups, resolved now (for a rule checked outside a request's lock)."""
        return self._memberships(user)

    def _memberships(self, user: str, *, unknown_is_no: bool = False) -> MembersOf:
        """`user`'s approver and requester user groups and e-mail addresses, resolved now (Slack, cached) so that
        rules checked under the row lock never wait on Slack; a resolver that answers from this alone. An entry
        Slack could not resolve raises MembersUnknown when a rule asks about it (its transaction then writes
        nothing), or stands for nobody when `unknown_is_no` (listing only: the Home, where a click checks again)."""
        listed = [*self.settings.requesters, *(g for a in self.settings.accounts for g in a.approvers + a.requesters)]
        member_of: set[str] = set()
        unknown: dict[str, approvals.MembersUnknown] = {}
        for entry in {entry for entry in listed if approvals.resolved(entry)}:
            try:
                if user in set(self.members_of(entry)):
                    member_of.add(entry)
            except approvals.MembersUnknown as error:
                unknown[entry] = error

        def members_of(entry: str) -> tuple[str, ...]:
            if entry in unknown and not unknown_is_no:
                raise unknown[entry]
            return (user,) if entry in member_of else ()
        return members_of

    # -- reading ---------------------------------------------------------------------------------------
    def get(self, request_id: str) -> MigrationRequest | None:
        """The request with this id (case-insensitive, surrounding spaces ignored), or None."""
        with session_scope(self.db) as session:
            return repository.get_request(session, request_id.strip().lower())

    def source_holds(self, request: MigrationRequest) -> holds.SourceHolds:
        """Other unfinished requests that write into or read from this request's source instance (core.holds)."""
        with session_scope(self.db) as session:
            return holds.source_holds(session, request)

    def open_requests(self, limit: int = 20) -> Sequence[MigrationRequest]:
        """Requests not finished yet, newest first."""
        with session_scope(self.db) as session:
            return repository.list_requests(session, holds.UNFINISHED, limit=limit)

    def home(self, user: str) -> Home:
        """What `user`'s App Home lists: requests waiting for their approval, their open and finished ones."""
        return home_for(self.db, self.settings, user, self._memberships(user, unknown_is_no=True))

    # -- opening and editing ---------------------------------------------------------------------------
    def columns(self, fields: Mapping[str, str | None]) -> dict[str, Any]:
        """Validated fields (validation.validate_request) as request columns, with the accounts' UINs."""
        values = {name: fields.get(name) for name in EDITABLE_FIELDS}
        values["source_uin"] = self.settings.account(str(values["source_account"])).uin
        values["target_uin"] = self.settings.account(str(values["target_account"])).uin
        return values

    def _login_refusal(self, values: Mapping[str, Any]) -> str | None:
        """Why the request cannot be accepted for want of a database login (DTS needs one per instance; nothing
        is bought without both), or None."""
        for instance in (str(values["source_instance"]), str(values["target_instance"])):
            problem = self.logins.problem(instance)
            if problem is not None:
                return _("No usable database login for {instance} ({problem}). DTS needs one for each instance, "
                         "so nothing would be bought: ask the bot's operator to add it, then open the request "
                         "again.", instance=instance, problem=problem)
        return None

    def open(self, fields: Mapping[str, str | None], requester: str, dedupe_key: str | None = None) -> Decision:
        """Store a validated request and queue its request message; a repeated delivery finds the first one.

        Refused when `requester` may not open requests (permissions.REQUEST; decided before CAM is read, so no one
        else learns anything of the source account) or another unfinished request holds the target instance
        (core.holds, checked under the instances' locks in the transaction that inserts).
        """
        values = self.columns(fields)
        values["external_id"] = values["external_id"] or generate_external_id()
        members_of = self._memberships(requester)  # before the write transaction: it may call Slack
        no_login = self._login_refusal(values)  # likewise (Secrets Manager)
        proposed = Proposed(requester, str(values["source_account"]), str(values["target_account"]))
        why = refusal(self.settings, Action.REQUEST, proposed, requester, members_of) or no_login
        if why:
            with session_scope(self.db) as session:
                return self._refuse(session, None, requester, Action.REQUEST, why, None)
        if values["role_name"]:  # a role of the request's own name cannot exist yet: nothing to read
            values["facts"] = self._role_plan(values, Facts())
        with session_scope(self.db) as session:
            if dedupe_key is None or not _delivered(session, dedupe_key):
                why = holds.refusal(session, str(values["source_instance"]), str(values["target_instance"]), None)
                if why:
                    return self._refuse(session, None, requester, Action.REQUEST, why, None)
            request_id = repository.new_request_id()  # no role_name: a role of its own, named after the id
            values["role_name"] = values["role_name"] or default_role_name(request_id)
            request, created = repository.create_request(session, values, requester, dedupe_key, request_id)
            if created:
                outbox.enqueue(session, request.id, f"{request.id}:request", "request", {"event": "requested"})
                _role_details(session, request)
                repository.audit(session, "request", "ok", request.id, actor=requester, action="open")
        return Decision(True, _("Request {id} created.", id=request.id), request, changed=created)

    def edit(self, request_id: str, user: str, fields: Mapping[str, str | None]) -> Decision:
        """The requester changes the request before both sides approved; earlier approvals become void. Who may is
        decided before CAM is read (and again under the row lock)."""
        values = self.columns(fields)
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        no_login = self._login_refusal(values)  # likewise (Secrets Manager)
        current = self.get(request_id)
        why = self._edit_refusal(current, user, values, members_of) or no_login
        if why:
            with session_scope(self.db) as session:
                return self._refuse(session, request_id, user, "edit", why, current)
        assert current is not None
        values["external_id"] = values["external_id"] or current.external_id
        values["role_name"] = values["role_name"] or default_role_name(current.id)
        role_plan = self._role_plan(values, current.facts)  # read CAM before the row lock, never under it
        with session_scope(self.db) as session:
            request = _locked(session, request_id)
            why = self._edit_refusal(request, user, values, members_of)
            if why:
                return self._refuse(session, request_id, user, "edit", why, request)
            assert request is not None
            if all(getattr(request, k) == v for k, v in values.items()):
                return Decision(True, _("Nothing changed in {id}.", id=request.id), request)
            why = holds.refusal(session, str(values["source_instance"]), str(values["target_instance"]), request.id)
            if why:
                return self._refuse(session, request.id, user, "edit", why, request)
            repository.update_request(session, request, revision=request.revision + 1, facts=role_plan, **values)
            repository.audit(session, "request", "ok", request.id, actor=user, action="edit",
                             detail=f"revision {request.revision}")
            _notice(session, request, f"edited:{request.revision}", "edited",
                    for_channel("Edited (plan revision {revision}); earlier approvals are void, please approve "
                                "again.", revision=request.revision), user=user)
            _role_details(session, request)
        return Decision(True, _("{id} updated; approvals start again.", id=request.id), request, changed=True)

    def _role_plan(self, values: Mapping[str, Any], facts: Facts) -> Facts:
        """`facts` with `role_plan`: what CAM says about the named role now (unchanged without a reader)."""
        if self.inspect_role is None:
            return facts
        probe = MigrationRequest(**{k: v for k, v in values.items() if k != "facts"}, id="", requester="")
        return facts.merged({"role_plan": self.inspect_role(probe)})

    def may_edit(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the edit form now (refusals audited)."""
        with session_scope(self.db) as session:
            request = repository.get_request(session, request_id)
            why = self._edit_refusal(request, user)
            if why:
                return self._refuse(session, request_id, user, "edit", why, request)
        return Decision(True, "", request)

    def may_reject(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the reject form now: an approver, while approvals are open (refusals audited)."""
        current = self.get(request_id)
        if current is None:
            return Decision(False, _("No such request."))
        # no row lock here, so Slack is asked lazily: a side listing the user by ID decides without any lookup (the
        # reason form must open within the trigger's 3 s, whatever another side's e-mail lookups cost)
        why = refusal(self.settings, Action.REJECT, current, user, self.members_of)
        with session_scope(self.db) as session:
            if why:
                return self._refuse(session, current.id, user, "reject", f"{current.id}: {why}", current)
            if current.state != State.REQUESTED:
                return self._refuse(session, current.id, user, "reject",
                                    _("{id} is {state}; it can no longer be rejected.", id=current.id,
                                      state=current.state), current)
        return Decision(True, "", current)

    def _edit_refusal(self, request: MigrationRequest | None, user: str, values: Mapping[str, Any] | None = None,
                      members_of: MembersOf = no_groups) -> str | None:
        """Why `user` may not edit `request` (into `values`, when given) now, or None."""
        if request is None:
            return _("No such request.")
        why = refusal(self.settings, Action.EDIT, request, user, no_groups)
        if why:
            return f"{request.id}: {why}"
        if request.state != State.REQUESTED:
            return _("{id} is {state}; it can be edited only until both sides approved.", id=request.id,
                     state=request.state)
        if values is None:
            return None
        # the edited request must be one its requester may open (the `requesters` of its new accounts)
        proposed = Proposed(request.requester, str(values["source_account"]), str(values["target_account"]))
        return refusal(self.settings, Action.REQUEST, proposed, request.requester, members_of)

    # -- deciding --------------------------------------------------------------------------------------
    def approve(self, request_id: str, side: str, user: str, revision: int | None = None) -> Decision:
        """Record `side`'s approval of the plan revision shown; both sides approved → approved + kick."""
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            why = refusal(self.settings, Action(f"approve_{side}"), request, user, members_of)
            if why:
                return self._refuse(session, request.id, user, f"approve_{side}", why, request)
            approved_by = {s: a.user_id for s, a in repository.approvals_for(session, request).items()}
            if side in approved_by and (revision is None or revision == request.revision):
                return Decision(True, _(_ALREADY_APPROVED_BY[side], id=request.id, user=approved_by[side]), request)
            why = self._state_refusal(request, revision) or approvals.two_person_refusal(
                self.settings, request.id, side, user, approved_by)  # under the row lock: no two clicks race it
            if why:
                return self._refuse(session, request.id, user, f"approve_{side}", why, request)
            if not repository.record_approval(session, request, side, user):
                return Decision(True, _(_ALREADY_APPROVED[side], id=request.id), request)
            repository.audit(session, "approval", "ok", request.id, actor=user, action=f"approve_{side}",
                             detail=f"revision {request.revision}")
            approved_by[side] = user
            both = set(approved_by) >= set(approvals.SIDES)
            if both:
                _transition(session, request, State.APPROVED)
            text = for_channel(_APPROVED_TEXT[side, both])
            if approvals.one_person(approved_by):
                text += " " + for_channel("Approved by one person for both accounts (approvals.same_person_both_sides).")
            _notice(session, request, f"approved:{request.revision}:{side}", "approved_side", text, user=user)
        if both:
            self.run_now(request.id)
        return Decision(True, _(_APPROVED_REPLY[side], id=request.id), request, changed=True)

    def _state_refusal(self, request: MigrationRequest, revision: int | None) -> str | None:
        if request.state != State.REQUESTED:
            return _("{id} is {state}; it no longer takes approvals.", id=request.id, state=request.state)
        if revision is not None and revision != request.revision:
            return _("The plan of {id} changed since you saw it (revision {seen}, now {revision}); approve the "
                     "current message.", id=request.id, seen=revision, revision=request.revision)
        return None

    def reject(self, request_id: str, user: str, reason: str) -> Decision:
        """An approver of either side turns the request down, with a reason everyone sees (invisible and bidi
        control characters removed: validation.free_text)."""
        reason = validation.free_text(reason)[:2000]
        return self._close(request_id, user, "reject", lambda _request: Action.REJECT,
                           lambda request: State.REJECTED if request.state == State.REQUESTED else None,
                           {State.REJECTED: N_("Rejected. Reason:")}, facts={"reject_reason": reason},
                           detail=reason or for_channel("(none given)"))

    def cancel(self, request_id: str, user: str) -> Decision:
        """Cancel an unfinished request: outright while nothing exists in the cloud, else the engine revokes
        the access (`cancelling`), after stopping the DTS task (`stopping_task`) when one may run.

        Who may: permissions.CANCEL, or permissions.STOP once the cancel has to stop a DTS task.
        """
        decision = self._close(
            request_id, user, "cancel",
            lambda request: cancel_action(request.state, request.failed_step, request.job_id is not None),
            _cancel_goal, _CANCEL_TEXT)
        if decision.changed and decision.request is not None and decision.request.state != State.CANCELLED:
            self.run_now(decision.request.id)  # stop or revoke now, not at the next poll
        return decision

    def force_cancel(self, request_id: str, operator: str) -> Decision:
        """An operator's cancel (`dtsbot requests cancel --force`): the workflow of `cancel` — a DTS task that may
        run is stopped before its access is revoked — without the Slack permission check (the operator is no
        approver); audited with `operator` as the actor and said in the thread."""
        return self._close(request_id, operator, "cancel", lambda _request: None, _cancel_goal, _CANCEL_TEXT,
                           detail=for_channel("By the operator {operator} (dtsbot requests cancel --force).",
                                              operator=operator), mention=False)

    def undo_closeout(self, request_id: str, user: str, now: datetime | None = None) -> Decision:
        """*Undo close-out* during retention: the close-out runner recovers the isolated task (RecoverMigrateJob).

        Who may: permissions.UNDO_CLOSEOUT."""
        members_of = self._memberships(user)
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            why = refusal(self.settings, Action.UNDO_CLOSEOUT, request, user, members_of)
            if why:
                return self._refuse(session, request.id, user, Action.UNDO_CLOSEOUT.value, f"{request.id}: {why}",
                                    request)
            try:
                request = request_undo(session, request, user, now or utcnow())
            except ValueError as refused:
                return self._refuse(session, request.id, user, Action.UNDO_CLOSEOUT.value,
                                    _(str(refused), id=request.id, phase=request.closeout or "-"), request)
            return Decision(True, _("The DTS task of {id} is being recovered; it is kept (and billed) afterwards.",
                                    id=request.id), request, changed=True)

    def resume(self, request_id: str, user: str, action: str) -> Decision:
        """Re-verify, complete, retry or retry the task: move the request back into the engine's hands and kick it.

        Who may: permissions.REVERIFY, COMPLETE, RETRY, RETRY_TASK, or as the failed step decides
        (`permissions.retry_action`: access steps RETRY_ACCESS, a task DTS stopped RETRY_TASK).
        """
        if action not in RESUME_FROM:
            raise ValueError(f"unknown action {action!r}")
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            permission = retry_action(request.failed_step) if action == "retry" else Action(action)
            why = refusal(self.settings, permission, request, user, members_of)
            if why:
                return self._refuse(session, request.id, user, action, f"{request.id}: {why}", request)
            if request.state != RESUME_FROM[action]:
                return self._refuse(session, request.id, user, action,
                                    _("{id} is {state}; {action} applies only when it is {needed}.", id=request.id,
                                      state=request.state, action=action, needed=RESUME_FROM[action].value),
                                    request)
            closed = cutover.refusal(request.facts) if action == "complete" else None
            if closed:  # the gate, decided here and not only by the hidden button
                return self._refuse(session, request.id, user, action, f"{request.id}: {closed}", request)
            goal = (retry_target(request.failed_step) if request.failed_step else None) if action in RETRIES \
                else RESUME_TO[action]
            if action == "retry_task" and goal is not State.RESUMING_TASK:
                return self._refuse(session, request.id, user, action,
                                    _("{id} did not fail while DTS was migrating; use Retry.", id=request.id),
                                    request)
            if goal is None:
                return self._refuse(session, request.id, user, action,
                                    _("{id} does not say which step failed; it cannot be retried.", id=request.id),
                                    request)
            decide = self.resumers.get(action)
            if decide is not None:  # the workflow engine's own decision (it kicks itself after the commit)
                decide(session, request, user)
            else:
                _transition(session, request, goal, next_run_at=None, last_error=None)
                repository.audit(session, "request", "ok", request.id, actor=user, action=action)
            _notice(session, request, f"{action}:{request.version}", action, for_channel(_RESUMED_TEXT[action]),
                    user=user)
        if decide is None:
            self.run_now(request.id)
        return Decision(True, _(_RESUMED_REPLY[action], id=request.id), request, changed=True)

    def verify_owner_steps(self, request_id: str, user: str) -> Decision:
        """*Role created — verify* (guided mode): an approver of the side whose owner had the steps says they are
        done; the engine runs the next step (the preflight proves the chain before anything is bought)."""
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            side = request.facts.guided_side or "source"
            account = approvals.side_account(self.settings, request, side)
            why = refusal(self.settings, guided_action(side), request, user, members_of)
            if why:
                return self._refuse(session, request.id, user, "guided_verify", why, request)
            if request.state != State.AWAITING_OWNER:
                return self._refuse(session, request.id, user, "guided_verify",
                                    _("{id} is {state}; verify applies only while it waits for the owner's CAM "
                                      "steps.", id=request.id, state=request.state), request)
            decide = self.resumers.get("guided_verify")
            if decide is not None:
                decide(session, request, user)
            else:
                goal = State(request.facts.guided_next or State.PREFLIGHT)
                _transition(session, request, goal, next_run_at=None, last_error=None)
                repository.audit(session, "request", "ok", request.id, actor=user, action="guided_verify")
            _notice(session, request, f"guided_verify:{request.version}", "guided_verify",
                    for_channel("{account} steps done: verifying from the target side.", account=account.name),
                    user=user)
        if decide is None:
            self.run_now(request.id)
        return Decision(True, _("Verifying {id}: the target assumes the role and lists the source instance; "
                                "nothing is bought before that passes.", id=request.id), request, changed=True)

    def role_deleted_checked(self, request_id: str, user: str, outcome: str, code: str | None,
                             cloud_request_id: str | None, proof: str | None) -> None:
        """Record a *Role deleted — check* (guided mode) and its answer (`outcome`, STS's `code` and RequestId) in
        the audit; a `proof` (STS said the role does not exist: the thread's text) is also kept as the request's
        `role_gone_proof`, so the request message says the access is revoked only from then on."""
        with session_scope(self.db) as session:
            request = _locked(session, request_id)
            if request is None:
                return
            repository.audit(session, "role_deleted_check", outcome, request.id, actor=user,
                             action="role_deleted_check", error_code=code, cloud_request_id=cloud_request_id)
            if proof is None:
                return
            repository.update_request(session, request, facts=request.facts.merged(
                {"role_gone_proof": {"code": code or "", "request_id": cloud_request_id or ""}}))
            outbox.enqueue(session, request.id, f"{request.id}:guided:role_deleted", "thread",
                           {"event": "role_deleted", "text": proof, "user": user})

    def _close(self, request_id: str, user: str, action: str,
               permission: Callable[[MigrationRequest], Action | None],
               goal_of: Callable[[MigrationRequest], State | None], texts: Mapping[State, str],
               facts: dict[str, Any] | None = None, detail: str | None = None, mention: bool = True) -> Decision:
        """Move the request to `goal_of(request)` (None: not from its state) if `permission(request)` allows
        (None: an operator, no Slack permission applies); `mention`: the notice names `user` as a Slack user."""
        members_of = self._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            needed = permission(request)
            why = refusal(self.settings, needed, request, user, members_of) if needed is not None else None
            if why:
                return self._refuse(session, request.id, user, action, f"{request.id}: {why}", request)
            if action == "cancel" and request.state in CANCELLING_STATES | {State.CANCELLED}:
                return Decision(True, _("{id} is already {state}.", id=request.id, state=request.state), request)
            goal = goal_of(request)
            if goal is None:
                return self._refuse(session, request.id, user, action,
                                    _(_NO_LONGER[action], id=request.id, state=request.state), request)
            text = for_channel(texts[goal])
            changes = {"facts": request.facts.merged(facts)} if facts else {}
            # due at once on every replica (a waiting step's next run may be the watcher's fallback, minutes
            # away; the CLI has no scheduler to kick)
            _transition(session, request, goal, next_run_at=None, **changes)
            repository.audit(session, "request", "ok", request.id, actor=user, action=action,
                             detail=(detail or text)[:2000])
            _notice(session, request, str(goal), str(goal), text, user=user if mention else None, detail=detail)
        done = goal in (State.CANCELLED, State.REJECTED)
        reply = _("{id} is {state}.", id=request.id, state=goal.value) if done else f"{request.id}: {_(texts[goal])}"
        return Decision(True, reply, request, changed=True)

    def _refuse(self, session: Session, request_id: str | None, user: str, action: str, why: str,
                request: MigrationRequest | None) -> Decision:
        """Audit a refused decision; the transaction then commits only that entry."""
        repository.audit(session, "request", "refused", request_id if request else None, actor=user,
                         action=action, detail=why[:2000])
        return Decision(False, why, request)

    # -- expiry ----------------------------------------------------------------------------------------
    def expire_overdue(self, now: datetime | None = None) -> list[str]:
        """Expire requests not fully approved within `scheduler.approval_expiry_hours` (the thread is told, the
        requester by DM); returns their ids."""
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
                    _transition(session, request, State.EXPIRED)
                except ConcurrentUpdate:
                    continue
                repository.audit(session, "request", "ok", request.id, action="expire")
                _notice(session, request, "expired", "expired",
                        for_channel("Expired: not approved by both sides within {hours} hours. Open a new request "
                                    "to retry.", hours=f"{hours:g}"))
                outbox.enqueue(session, request.id, f"{request.id}:expired:requester", "direct",
                               {"event": "expired", "hours": hours})
                expired.append(request_id)
        return expired

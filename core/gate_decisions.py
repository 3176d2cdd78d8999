"""People's decisions at the cutover gate: *Check data* and the two-sided override (core.cutover).

Each is one transaction on the request, like every decision in core/requests.py: the permission (core.permissions
CHECK_DATA, OVERRIDE_SOURCE / OVERRIDE_TARGET) and the state are checked under the row lock, a refusal is audited
and changes nothing else, an accepted decision is audited (the reason in full) and said in the thread.
"""

from __future__ import annotations

from core import approvals, cutover, validation
from core.i18n import _, for_channel
from core.permissions import Action, refusal
from core.requests import Decision, MigrationRequests, _locked, _notice
from core.workflow import State
from storage import repository
from storage.db import session_scope
from storage.models import MigrationRequest


class GateDecisions:
    """*Check data* and *Override gate*, over the request operations' database and rules."""

    def __init__(self, requests: MigrationRequests) -> None:
        self.requests = requests

    def _sides(self, request: MigrationRequest, user: str, members_of: approvals.MembersOf,
               first: bool = False) -> list[str]:
        """The sides whose override `user` may still give (not given yet, an approver of it, not the person who
        gave the other side's unless `approvals.same_person_both_sides`). A side Slack cannot resolve now does
        not hide one it can (an approver listed by ID); MembersUnknown only when no side is decided. `first`:
        stop at the first side found, asking about a side that lists `user` by ID first (no Slack call: the
        form a click opens must not wait on another side's lookups)."""
        given = request.facts.cutover_overrides or {}
        settings = self.requests.settings
        sides: list[str] = []
        unknown: approvals.MembersUnknown | None = None
        order = sorted(cutover.SIDES, key=lambda side: first and user not in approvals.side_account(
            settings, request, side).approvers)
        for side in order:
            if sides and first:
                break
            if side in given or (not settings.approvals.same_person_both_sides
                                 and given.get(approvals.other_side(side), {}).get("user") == user):
                continue
            try:
                if refusal(settings, Action(f"override_{side}"), request, user, members_of) is None:
                    sides.append(side)
            except approvals.MembersUnknown as error:
                unknown = unknown or error
        if not sides and unknown is not None:
            raise unknown
        return sides

    def may_override(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the override form now (refusals audited). No row lock, so Slack is asked
        lazily, only about the entries a rule reaches: the form opens within the trigger's 3 s; `override`
        checks again under the lock."""
        request = self.requests.get(request_id)
        if request is None:
            return Decision(False, _("No such request."))
        why = self._override_refusal(request, user, self.requests.members_of)
        if why:
            with session_scope(self.requests.db) as session:
                return self.requests._refuse(session, request.id, user, "override_gate", why, request)
        return Decision(True, "", request)

    def _override_refusal(self, request: MigrationRequest, user: str, members_of: approvals.MembersOf) -> str | None:
        if request.state != State.READY_TO_COMPLETE:
            return _("{id} is {state}; the cutover gate applies only when it is ready to complete.", id=request.id,
                     state=request.state)
        if cutover.gate_open(request.facts):
            return _("The cutover gate of {id} is open: nothing to override.", id=request.id)
        if not self._sides(request, user, members_of, first=True):
            return _("{id}: the override needs one approver of each side, each with a reason; you may not give "
                     "a side's half that is still missing.", id=request.id)
        return None

    def override(self, request_id: str, user: str, reason: str) -> Decision:
        """Record `user`'s half of the override for the first side they may give, with their reason; both halves
        given → the gate is open and *Complete* is offered to the target approvers."""
        reason = validation.free_text(reason)[:2000].strip()
        members_of = self.requests._memberships(user)
        with session_scope(self.requests.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            why = self._override_refusal(request, user, members_of) or (
                None if reason else _("An override needs a reason."))
            if why:
                return self.requests._refuse(session, request.id, user, "override_gate", why, request)
            side = self._sides(request, user, members_of)[0]
            overrides = {**(request.facts.cutover_overrides or {}), side: {
                "user": user, "reason": reason, "items": cutover.missing(request.facts)}}
            facts = request.facts.merged({"cutover_overrides": overrides})
            repository.update_request(session, request, facts=facts)
            repository.audit(session, "cutover", "ok", request.id, actor=user, action=f"override_{side}",
                             detail=reason)
            both = cutover.overridden(facts)
            text = for_channel("The cutover gate was overridden for the {side} side. Reason:", side=for_channel(side))
            if both:
                text = for_channel("The cutover gate was overridden for the {side} side: both sides overrode the "
                                   "missing evidence, so a target approver may *Complete*. Reason:",
                                   side=for_channel(side))
            _notice(session, request, f"override:{side}", "gate_override", text, user=user, detail=reason,
                    actions=("complete",) if both else ())
        return Decision(True, _("Your override of the {side} side of {id} is recorded.", side=_(side), id=request.id),
                        request, changed=True)

    def check_data(self, request_id: str, user: str) -> Decision:
        """*Check data*: the watching step runs a new compare task (handlers.compare_data) at its next run, now."""
        if self.requests.settings.cutover.compare == "off":
            return Decision(False, _("The consistency check is off here (`cutover.compare: off`)."))
        members_of = self.requests._memberships(user)
        with session_scope(self.requests.db) as session:
            request = _locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            why = refusal(self.requests.settings, Action.CHECK_DATA, request, user, members_of)
            if not why and request.state != State.READY_TO_COMPLETE:
                why = _("{id} is {state}; the data is checked when it is ready to complete.", id=request.id,
                        state=request.state)
            if not why and request.facts.compare_status in ("created", "readyRun", "running"):
                why = _("A consistency check of {id} is already running.", id=request.id)
            if why:
                return self.requests._refuse(session, request.id, user, "check_data", f"{request.id}: {why}",
                                             request)
            repository.update_request(session, request, next_run_at=None, facts=request.facts.merged({
                "compare_wanted": True, "compare_conclusion": None, "compare_status": None, "compare_report": None}))
            repository.audit(session, "cutover", "ok", request.id, actor=user, action="check_data")
            _notice(session, request, f"check_data:{request.version}", "check_data",
                    for_channel("Consistency check requested."), user=user)
        self.requests.run_now(request.id)
        return Decision(True, _("Consistency check of {id} requested.", id=request.id), request, changed=True)

"""Who may rely on a shared source role (and its sub-account grant), and who deletes it: the reference count the
workflow engine keeps around the authorize and revoke steps (storage.ownership holds the records).

Requests that give the same `role_name` and `external_id` share one role. Taking it up and letting it go cannot
cross, because both are decided under one lock per role (`ownership.lock_role`), and only while the replica still
holds the request's claim:
- `take_up`, before the authorize step reads the cloud, records the request as a user of the role, unless another
  request, its last user, is deleting the role (or, for a sub-account executor, its grant): then the step waits;
- `sharers`, before the revoke step, counts the other users. The last one records that it `releases` the role (or
  only the grant, when every other user runs as root) and inherits what ended requests made and kept for it; a
  revoke whose only sharers are still in their first authorize step waits for them (they may never use the role);
- `settle`, with the outcome of either step, drops the release decision when the revoke ends and lets the role go
  when an authorize step failed before the request ever used it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import policies
from core.config import Settings
from core.steps import Outcome, Owned, StepResult
from core.workflow import ACTIVE, State
from storage import ownership
from storage.db import session_scope
from storage.models import MigrationRequest
from storage.repository import ConcurrentUpdate

S = State
REVOKING = frozenset({S.REVOKING_ACCESS, S.CANCELLING})
USES_ROLE = ACTIVE - REVOKING - {S.APPROVED} | {S.VERIFY_FAILED, S.READY_TO_COMPLETE, S.FAILED, S.AWAITING_OWNER}
"""States of an unfinished request: when it has used a role (storage.ownership), that role must stay."""


@dataclass(frozen=True)
class Sharing:
    """What the revoke of one request found: the others still using the role, as (id, executor); the ended
    requests whose role or grant it inherits; the sharers still in their first authorize step."""

    sharers: list[tuple[str, str]] = field(default_factory=list)
    inherited: list[str] = field(default_factory=list)
    taking_up: list[str] = field(default_factory=list)


def grant_to_release(request: MigrationRequest, sharers: list[tuple[str, str]]) -> bool:
    """Whether this request's sub-account grant must go although the role stays: no sharer runs as a
    sub-account (the grant policy is per role, so a sharer running as one still needs it)."""
    return request.executor != "root" and all(executor == "root" for _, executor in sharers)


def _may_delete_role(request: MigrationRequest, settings: Settings) -> bool:
    """Whether revoking may delete the request's role: not when the source owner made it by hand (guided access,
    or a person's role the request used as it is)."""
    if settings.account(request.source_account).access == "guided":
        return False
    return not (request.facts.role_used and request.facts.role_owner is None)


def _grant_name(request: MigrationRequest) -> str:
    return policies.grant_policy_name(request.source_uin, request.role_name)


def _role_use(request: MigrationRequest) -> Owned:
    return Owned("uses", "role", request.source_uin, request.role_name)


class RoleSharing:
    """The reference count of shared roles, for one replica (`owner`) on one database."""

    def __init__(self, db: Engine, settings: Settings, owner: str) -> None:
        self.db, self.settings, self.owner = db, settings, owner

    def _hold(self, session: Session, claimed: MigrationRequest) -> None:
        """Under the role lock, before writing a use or a release: the request is still this replica's claim as
        read (ConcurrentUpdate otherwise: another replica took it over, and decides for it)."""
        ownership.lock_role(session, claimed.source_uin, claimed.role_name)
        current = session.exec(select(MigrationRequest.version, MigrationRequest.lease_owner)
                               .where(MigrationRequest.id == claimed.id)).first()
        if current is None or tuple(current) != (claimed.version, self.owner):
            raise ConcurrentUpdate(f"request {claimed.id} is no longer leased by {self.owner} as read")

    def take_up(self, request: MigrationRequest) -> tuple[str, str] | None:
        """Record the request as a user of its role before its authorize step reads the cloud; unless another
        request is deleting the role (or, for a sub-account executor, its grant): then (that name, that request)."""
        with session_scope(self.db) as session:
            self._hold(session, request)
            wanted = [("role", request.source_uin, request.role_name)]
            if request.executor != "root":
                wanted.append(("policy", request.target_uin, _grant_name(request)))
            for kind, account_uin, name in wanted:
                others = ownership.releasers(session, kind, account_uin, name, [s.value for s in REVOKING],
                                             excluding=request.id)
                if others:
                    return name, others[0]
            ownership.record(session, request.id, [_role_use(request)], [])
        return None

    def sharers(self, request: MigrationRequest) -> Sharing:
        """Before the revoke step: the other users of the role; the last user records what it releases and
        inherits what the ended requests that made the role or grant kept for it."""
        with session_scope(self.db) as session:
            self._hold(session, request)
            unfinished = [s.value for s in USES_ROLE]
            users = ownership.role_users(session, request.source_uin, request.role_name, unfinished,
                                         excluding=request.id)
            others = {other.id: other for other in session.exec(
                select(MigrationRequest).where(col(MigrationRequest.id).in_(users))).all()}
            sharers = [(user, others[user].executor if user in others else "root") for user in users]
            taking_up = [user for user in users if user in others and others[user].state == S.AUTHORIZING_SOURCE
                         and not others[user].facts.role_used]
            inherited: list[str] = []
            if not users and _may_delete_role(request, self.settings):
                ownership.record(session, request.id, [Owned("releases", "role", request.source_uin,
                                                             request.role_name)], [])
                inherited += ownership.ended_makers(session, "role", request.source_uin, request.role_name,
                                                    unfinished)
            if grant_to_release(request, sharers) and self.settings.account(
                    request.target_account).access != "guided":
                ownership.record(session, request.id, [Owned("releases", "policy", request.target_uin,
                                                             _grant_name(request))], [])
                inherited += ownership.ended_makers(session, "policy", request.target_uin, _grant_name(request),
                                                    unfinished)
        return Sharing(sharers, sorted(set(inherited) - {request.id}), taking_up)

    @staticmethod
    def settle(session: Session, request: MigrationRequest, state: State, result: StepResult) -> None:
        """With the outcome of a step that ends its state, in the outcome's transaction: leaving a revoking state
        drops the request's `releases` (it deleted, or left, what it meant to); an authorize step that failed
        before the request ever used its role lets the role go (it never held it open)."""
        if state not in REVOKING and state is not S.AUTHORIZING_SOURCE:
            return
        ownership.lock_role(session, request.source_uin, request.role_name)  # these records, and the step's
        if state in REVOKING:
            ownership.forget(session, request.id, "releases")
        if state is S.AUTHORIZING_SOURCE and result.outcome is Outcome.FAILED and not request.facts.role_used:
            ownership.let_go(session, request.id, _role_use(request))

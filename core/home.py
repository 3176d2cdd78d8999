"""What one person's App Home shows: the requests waiting for *their* approval (and which sides they may approve,
by the same rules as the channel: core/permissions.py), their open requests and their recently finished ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.approvals import SIDES, MembersOf, two_person_refusal
from core.config import Settings
from core.permissions import Action, refusal
from core.workflow import TERMINAL, State
from storage import repository
from storage.db import session_scope
from storage.models import MigrationRequest

AWAITING_LIMIT = 25
OPEN_LIMIT = 20
FINISHED_LIMIT = 5


@dataclass(frozen=True)
class Home:
    """One person's requests, as their Home tab lists them."""

    awaiting: list[tuple[MigrationRequest, list[str]]] = field(default_factory=list)
    """Requests waiting for this person's approval, oldest first, with the sides they may approve now."""
    open: list[MigrationRequest] = field(default_factory=list)
    """Their own unfinished requests, newest first."""
    finished: list[MigrationRequest] = field(default_factory=list)
    """Their own finished requests, newest first."""


def home_for(db: Engine, settings: Settings, user: str, members_of: MembersOf) -> Home:
    """The Home of `user`; `members_of` answers for their user groups and e-mail addresses (resolved before)."""
    awaiting = []
    with session_scope(db) as session:
        waiting = session.exec(select(MigrationRequest).where(MigrationRequest.state == State.REQUESTED.value)
                               .order_by(col(MigrationRequest.created_at))).all()
        for request in waiting:
            decided = {side: a.user_id for side, a in repository.approvals_for(session, request).items()}
            sides = [side for side in SIDES if side not in decided
                     and refusal(settings, Action(f"approve_{side}"), request, user, members_of) is None
                     and two_person_refusal(settings, request.id, side, user, decided) is None]
            if sides:
                awaiting.append((request, sides))
        mine = session.exec(select(MigrationRequest).where(MigrationRequest.requester == user)
                            .order_by(col(MigrationRequest.created_at).desc()).limit(100)).all()
    return Home(awaiting=awaiting[:AWAITING_LIMIT],
                open=[r for r in mine if State(r.state) not in TERMINAL][:OPEN_LIMIT],
                finished=[r for r in mine if State(r.state) in TERMINAL][:FINISHED_LIMIT])

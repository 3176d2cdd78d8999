"""Cloud ownership records: which request created, attached or uses which CAM role or policy, and who still
uses a shared role (the reference count that decides which request releases it).

Taking a shared role (and its sub-account grant) up and letting it go are serialised per role (`lock_role`): a
request records that it `uses` the role before its authorize step reads the cloud, and only while no other
request `releases` it; the last user records that it `releases` the role (or only the grant, when every other
user runs as root) in the transaction that found no other user, and drops that record when its revoke ends
(core.role_sharing). So no request can start relying on a role or grant that is being deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlmodel import Session, col, select

from storage.db import serialize
from storage.models import CloudOwnership, MigrationRequest, utcnow


class CloudResource(Protocol):
    """What a request did to a cloud resource, as a step reports it (core.steps.Owned)."""

    @property
    def relation(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def account_uin(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def holder(self) -> str: ...
    @property
    def policy_id(self) -> int | None: ...


def _row(session: Session, request_id: str, item: CloudResource) -> CloudOwnership | None:
    return session.exec(select(CloudOwnership).where(
        CloudOwnership.request_id == request_id, CloudOwnership.relation == item.relation,
        CloudOwnership.kind == item.kind, CloudOwnership.account_uin == item.account_uin,
        CloudOwnership.name == item.name, CloudOwnership.holder == item.holder)).first()


def record(session: Session, request_id: str, owned: Iterable[CloudResource],
           released: Iterable[CloudResource]) -> None:
    """Write a step's ownership changes; recording the same thing twice (a re-run step) changes nothing.

    `released` are resources deleted or detached: every request's record of them is closed, whatever its relation
    but `releases` (each request's own decision, dropped with `forget`)."""
    now = utcnow()
    for item in owned:
        row = _row(session, request_id, item)
        if row is None:
            session.add(CloudOwnership(request_id=request_id, relation=item.relation, kind=item.kind,
                                       account_uin=item.account_uin, name=item.name, holder=item.holder,
                                       policy_id=item.policy_id))
        elif row.released_at is not None:
            row.released_at, row.policy_id = None, item.policy_id
            session.add(row)
    for item in released:  # the resource is gone or detached: whichever request recorded it
        for row in session.exec(select(CloudOwnership).where(
                CloudOwnership.kind == item.kind, CloudOwnership.account_uin == item.account_uin,
                CloudOwnership.name == item.name, CloudOwnership.holder == item.holder,
                CloudOwnership.relation != "releases", col(CloudOwnership.released_at).is_(None))).all():
            row.released_at = now
            session.add(row)
    session.flush()


def let_go(session: Session, request_id: str, item: CloudResource) -> None:
    """Close the request's own record of `item` (the others' records of it stay)."""
    row = _row(session, request_id, item)
    if row is not None and row.released_at is None:
        row.released_at = utcnow()
        session.add(row)
        session.flush()


def forget(session: Session, request_id: str, relation: str) -> None:
    """Delete the request's records of `relation` (`releases`: a decision, not a resource, once it is carried out)."""
    for row in session.exec(select(CloudOwnership).where(CloudOwnership.request_id == request_id,
                                                         CloudOwnership.relation == relation)).all():
        session.delete(row)
    session.flush()


def of_request(session: Session, request_id: str) -> Sequence[CloudOwnership]:
    """Everything the request recorded, in order (released rows included)."""
    return session.exec(select(CloudOwnership).where(CloudOwnership.request_id == request_id)
                        .order_by(col(CloudOwnership.id))).all()


def _holders(session: Session, relation: str, kind: str, account_uin: str, name: str, states: Iterable[str],
             excluding: str) -> list[str]:
    """Other requests, in one of `states`, with an unreleased `relation`/`kind` record of `name`."""
    return list(session.exec(
        select(CloudOwnership.request_id).join(MigrationRequest, col(MigrationRequest.id) == col(CloudOwnership.request_id))
        .where(CloudOwnership.relation == relation, CloudOwnership.kind == kind,
               CloudOwnership.account_uin == account_uin, CloudOwnership.name == name,
               col(CloudOwnership.released_at).is_(None), CloudOwnership.request_id != excluding,
               col(MigrationRequest.state).in_(list(states)))
        .order_by(col(CloudOwnership.id))).all())


def role_users(session: Session, account_uin: str, role_name: str, states: Iterable[str],
               excluding: str) -> list[str]:
    """Other requests, in one of `states`, that use the role and have not let it go."""
    return _holders(session, "uses", "role", account_uin, role_name, states, excluding)


def releasers(session: Session, kind: str, account_uin: str, name: str, states: Iterable[str],
              excluding: str) -> list[str]:
    """Other requests, in one of `states` (revoking), that decided to delete this role or grant policy (`kind`
    role or policy) and have not deleted it yet."""
    return _holders(session, "releases", kind, account_uin, name, states, excluding)


def ended_makers(session: Session, kind: str, account_uin: str, name: str, unfinished: Iterable[str]) -> list[str]:
    """Requests, in none of the `unfinished` states, that made this role or grant policy (`kind` role or policy)
    and have not deleted it: they kept it for the requests still using it."""
    return list(session.exec(
        select(CloudOwnership.request_id).join(MigrationRequest, col(MigrationRequest.id) == col(CloudOwnership.request_id))
        .where(CloudOwnership.relation == "created", CloudOwnership.kind == kind,
               CloudOwnership.account_uin == account_uin, CloudOwnership.name == name,
               col(CloudOwnership.released_at).is_(None), col(MigrationRequest.state).not_in(list(unfinished)))
        .order_by(col(CloudOwnership.id))).all())


def lock_role(session: Session, account_uin: str, role_name: str) -> None:
    """Hold, until the transaction ends, the lock that serialises deciding who uses or releases this role."""
    serialize(session, f"role {account_uin} {role_name}")


def grant_users(session: Session, account_uin: str, policy_name: str, states: Iterable[str],
                excluding: str) -> list[str]:
    """Other requests, in one of `states`, that have the grant policy attached to their sub-account and have not
    let it go (a grant made by one request serves every request of its role: core.role_sharing.grant_to_release)."""
    return _holders(session, "attached", "user_policy", account_uin, policy_name, states, excluding)

"""The sweep for leftovers: what the bot tagged in the configured accounts whose request is finished or unknown to
this database, and which of it the ownership rules let the bot remove.

handlers/sweep_resources.py lists the tagged resources (CAM roles and policies with `dtsbot:request`, DTS tasks
with `dtsbot-request`) and removes a leftover; this module decides. Never an untagged resource: the lister only
reports what carries the tag. A resource of a known request must also be in that request's ownership records
(the bot's own account of what it created); a request still unfinished, a role another unfinished request uses, and
a task close-out still owns (isolating, retained, destroying, recovering) or a person chose to keep (kept) stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from core.closeout import Phase
from core.workflow import TERMINAL, State
from storage import ownership, repository
from storage.models import AuditEntry

UNFINISHED = [s.value for s in State if s not in TERMINAL]


class Kind(StrEnum):
    ROLE = "role"  # a CAM role in the source account
    GRANT = "grant"  # a CAM policy (the sub-account's sts:AssumeRole grant) in the target account
    TASK = "task"  # a DTS task in the target account


SIDE = {Kind.ROLE: "source", Kind.GRANT: "target", Kind.TASK: "target"}
"""Whose approvers may *Clean up* a leftover of each kind (permissions CLEAN_UP_SOURCE / CLEAN_UP_TARGET)."""
RECORDED_AS = {Kind.ROLE: "role", Kind.GRANT: "policy"}
"""The ownership record (`created`, kind) that proves a known request made the CAM resource."""
CLOSEOUT_OWNS = frozenset({Phase.ISOLATING, Phase.RETAINED, Phase.DESTROYING, Phase.RECOVERING, Phase.KEPT})


@dataclass(frozen=True)
class Found:
    """One tagged resource: its kind, the account (configured name and UIN), its name (role name, policy name or
    job id), the request its tag names, and where needed its region or policy id."""

    kind: Kind
    account: str
    account_uin: str
    name: str
    request_id: str
    region: str = ""
    policy_id: int | None = None

    @property
    def ref(self) -> str:
        """The resource as one string (a *Clean up* button's value); `parse_ref` reads it back."""
        return "|".join((self.kind.value, self.account, self.region, self.name, str(self.policy_id or ""),
                         self.request_id))


@dataclass(frozen=True)
class Verdict:
    """What the sweep makes of a tagged resource: `leftover` (may be removed) and why, in a few words."""

    found: Found
    leftover: bool
    why: str


def judge(session: Session, found: Iterable[Found]) -> list[Verdict]:
    """Each tagged resource with the sweep's verdict (leftovers first)."""
    verdicts = [_verdict(session, item) for item in found]
    return sorted(verdicts, key=lambda v: (not v.leftover, v.found.kind, v.found.account, v.found.name))


def _verdict(session: Session, item: Found) -> Verdict:
    request = repository.get_request(session, item.request_id)
    if request is None:
        return Verdict(item, True, f"request {item.request_id} is unknown to this database")
    if State(request.state) not in TERMINAL:
        return Verdict(item, False, f"request {request.id} is {request.state}")
    finished = f"request {request.id} is {request.state}"
    if item.kind is Kind.TASK:
        if request.closeout in CLOSEOUT_OWNS:
            return Verdict(item, False, f"{finished}; its close-out is {request.closeout}")
        if request.facts.closeout_undone_by:  # a failed recovery included: the person asked to keep it
            return Verdict(item, False, f"{finished}; {request.facts.closeout_undone_by} undid its close-out: kept")
        if request.job_id is None:
            if not _tried_to_buy(session, request.id):
                return Verdict(item, False, f"{finished}, but it never bought a task: left to a person")
            return Verdict(item, True, f"{finished}; its task's id was never recorded (an answer lost)")
        if request.job_id != item.name:
            return Verdict(item, False, f"{finished}, with another task ({request.job_id}): left to a person")
        return Verdict(item, True, finished)
    records = {(r.kind, r.name, r.released_at is None) for r in ownership.of_request(session, request.id)
               if r.relation == "created"}
    if (RECORDED_AS[item.kind], item.name, True) not in records:
        if (RECORDED_AS[item.kind], item.name, False) in records:  # the bot deleted its own: this one is another's
            return Verdict(item, False, f"{finished}; it deleted its {item.name} already: this one is not its own")
        return Verdict(item, False, f"{finished}, but its records do not say it created {item.name}")
    if item.kind is Kind.ROLE and ownership.role_users(session, item.account_uin, item.name, UNFINISHED,
                                                      excluding=request.id):
        return Verdict(item, False, f"{finished}; an unfinished request still uses the role")
    if item.kind is Kind.GRANT and ownership.grant_users(session, item.account_uin, item.name, UNFINISHED,
                                                        excluding=request.id):
        return Verdict(item, False, f"{finished}; an unfinished request still uses the grant")
    return Verdict(item, True, finished)


def _tried_to_buy(session: Session, request_id: str) -> bool:
    """Whether the request's audit holds a CreateMigrationService call (whatever its answer): a tagged task it does
    not name may then be the one that call bought."""
    return session.exec(select(AuditEntry.id).where(AuditEntry.request_id == request_id,
                                                    AuditEntry.action == "CreateMigrationService")).first() is not None


def parse_ref(ref: str) -> tuple[Kind, str, str, str, int | None, str]:
    """(kind, account, region, name, policy id, request id) of `Found.ref`; ValueError when it is not one."""
    kind, account, region, name, policy_id, request_id = ref.split("|")
    return Kind(kind), account, region, name, int(policy_id) if policy_id else None, request_id

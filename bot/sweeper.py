"""The sweep as one call (`dtsbot sweep`, the daily job): list what the bot tagged, judge it (core/sweep.py), and
with `apply` remove the leftovers (handlers/sweep_resources.py); every removal and each of its cloud calls is
audited (step `sweep`, with the resource and Tencent's RequestId)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from core.cloud import CloudCall, CloudClients
from core.engine import recording_calls
from core.sweep import Found, Verdict, judge
from handlers import sweep_resources
from storage.db import session_scope
from storage.models import AuditEntry, MigrationRequest

STEP = "sweep"


@dataclass(frozen=True)
class Swept:
    """One tagged resource, the sweep's verdict and, when it was removed, what was done."""

    verdict: Verdict
    done: str | None = None

    def line(self) -> str:
        f = self.verdict.found
        where = f"{f.account}" + (f" {f.region}" if f.region else "")
        state = ("leftover" if self.verdict.leftover else "kept") + (f" → {self.done}" if self.done else "")
        return f"{f.kind.value:<5} {where:<28} {f.name:<40} {self.verdict.why}: {state}"


def regions(db: Engine, clients: CloudClients) -> set[str]:
    """The regions DTS tasks may be in: the configured region and every region a request used."""
    with session_scope(db) as session:
        used = set(session.exec(select(MigrationRequest.target_region).distinct()).all())
    return {clients.settings.tencentcloud.region, *used}


@dataclass(frozen=True)
class Sweep:
    """The tagged resources with their verdicts, and the listings the accounts' keys were refused."""

    results: list[Swept]
    refused: list[str]


def sweep(db: Engine, clients: CloudClients, apply: bool = False) -> Sweep:
    """Every tagged resource with its verdict; with `apply`, each leftover removed (as far as the rules allow).
    `clients` should record their calls with `core.engine.record_cloud_call` for the audit."""
    found, refused = sweep_resources.find(clients, regions(db, clients))
    with session_scope(db) as session:
        verdicts = judge(session, found)
    results = []
    for verdict in verdicts:
        if not (apply and verdict.leftover):
            results.append(Swept(verdict))
            continue
        results.append(Swept(verdict, remove(db, clients, verdict.found)))
    return Sweep(results, refused)


def remove(db: Engine, clients: CloudClients, item: Found, actor: str = "dtsbot") -> str:
    """Remove one leftover and audit it with its cloud calls."""
    with recording_calls() as calls:
        done = sweep_resources.remove(clients, item)
    with session_scope(db) as session:
        request_id = item.request_id[:16]
        session.add_all([_call_entry(request_id, call) for call in calls])
        session.add(AuditEntry(step=STEP, outcome="done", request_id=request_id, actor=actor[:32],
                               action=f"remove_{item.kind.value}", account=item.account[:32],
                               resource=item.name[:256], detail=done[:2000]))
    return done


def _call_entry(request_id: str, call: CloudCall) -> AuditEntry:
    return AuditEntry(step=STEP, outcome=call.outcome, request_id=request_id, action=call.action,
                      account=call.account, cloud_request_id=call.request_id, error_code=call.error_code,
                      resource=call.resource, detail=f"{call.service} {call.duration * 1000:.0f} ms")

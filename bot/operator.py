"""`dtsbot requests list|show|cancel --force`: an operator's view of the requests, from the database.

The operator is no Slack user: they are named by `--as NAME` (default: the OS user running the command) and
recorded as `operator:NAME` in the audit. `cancel --force` goes through the workflow like a cancel in Slack — a
DTS task that may run is stopped (`stopping_task`) before the access is revoked, by the replicas' scheduler —
and skips only the permission check (who may cancel). Output never holds a secret: the external ID is masked and
the facts shown are the request's recorded facts (ids, states, codes).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from core.config import Settings
from core.policies import mask
from core.requests import MigrationRequests
from core.workflow import TERMINAL, State
from storage import ownership, repository
from storage.db import session_scope
from storage.models import MigrationRequest

ACTOR_PREFIX = "operator:"
ACTOR_LENGTH = 32
"""The audit's actor column holds 32 characters."""


def operator_actor(name: str | None) -> str:
    """The audit actor of an operator: `operator:<--as NAME or the OS user>`."""
    who = (name or getpass.getuser() or "unknown").strip() or "unknown"
    return (ACTOR_PREFIX + who)[:ACTOR_LENGTH]


def _row(request: MigrationRequest) -> str:
    return (f"{request.id:<10} {request.state:<20} {request.source_account}/{request.source_instance} → "
            f"{request.target_account}/{request.target_instance}  by {request.requester}  "
            f"updated {request.updated_at:%Y-%m-%d %H:%M}")


def list_requests(db: Engine, include_finished: bool, limit: int = 50) -> list[str]:
    """One line per request, newest first: unfinished ones, or all with `include_finished`."""
    states = [s.value for s in State if include_finished or s not in TERMINAL]
    with session_scope(db) as session:
        found: Sequence[MigrationRequest] = repository.list_requests(session, states, limit=limit)
        return [_row(r) for r in found] or ["no requests"]


def show_request(db: Engine, request_id: str) -> list[str] | None:
    """The request's fields, scheduling, facts, cloud resources and audit trail as lines, or None when there is no
    such request."""
    with session_scope(db) as session:
        request = repository.get_request(session, request_id.strip().lower())
        if request is None:
            return None
        lines = [_row(request)]
        for name in ("source_uin", "source_region", "target_uin", "target_region", "db_type", "role_name",
                     "executor", "migrate_type", "objects", "job_id", "failed_step", "last_error", "created_at",
                     "closeout"):
            lines.append(f"  {name}: {getattr(request, name, None)}")
        lines.append(f"  external_id: {mask(request.external_id)}")
        lines.append(f"  next_run_at: {request.next_run_at}  lease: {request.lease_owner or '-'} until "
                     f"{request.lease_until}")
        lines.append(f"  facts: {json.dumps(request.facts.stored(), default=str, sort_keys=True)}")
        lines.append("cloud resources (what this request created, attached or uses):")
        lines += [f"  {o.relation} {o.kind} {o.name}{' on ' + o.holder if o.holder else ''} in {o.account_uin}"
                  f"{' — released ' + f'{o.released_at:%Y-%m-%d %H:%M}' if o.released_at else ''}"
                  for o in ownership.of_request(session, request.id)] or ["  none"]
        lines.append("audit:")
        lines += [f"  {e.at:%Y-%m-%d %H:%M:%S} {e.actor:<20} {e.step}/{e.action} {e.outcome}"
                  f"{' ' + e.error_code if e.error_code else ''}{' — ' + e.detail if e.detail else ''}"
                  for e in repository.audit_trail(session, request.id)]
        return lines


def force_cancel(db: Engine, settings: Settings, request_id: str, actor: str) -> tuple[bool, str]:
    """Cancel through the workflow as `actor`; (done, what happened)."""
    decision = MigrationRequests(db, settings).force_cancel(request_id, actor)
    if not decision.ok:
        return False, decision.message
    if decision.request is not None and decision.request.state != State.CANCELLED.value:
        return True, (f"{decision.message} A running dtsbot serve replica does the rest (stop the task, then "
                      "revoke the access) at its next poll.")
    return True, decision.message

"""Engine test helpers: the shipped app.yaml with a fast poll, approved requests, scripted step functions that
count their own runs (the side effects the tests count), and readers of the outbox."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.config import SchedulerSettings, Settings, load_settings
from core.steps import Outcome, Owned, StepResult
from core.workflow import STEP_STATES
from storage import repository
from storage.db import session_scope
from storage.models import MigrationRequest, OutboxMessage, utcnow

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
STATES = sorted(s.value for s in STEP_STATES)
FIELDS = {
    "source_account": "shop-prod", "source_uin": "100000000001", "source_region": "ap-guangzhou",
    "source_instance": "cdb-src00001", "target_account": "analytics", "target_uin": "100000000002",
    "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001", "db_type": "mysql",
    "role_name": "DTS-role", "external_id": "dtsbot-test-external-id-0123456789", "executor": "root",
    "migrate_type": "full", "objects": "all",
}

Behaviour = Callable[[MigrationRequest, int], StepResult]


class MovedClock:
    """The engine's clock (`WorkflowEngine(clock=...)`): the wall clock plus what a test moved it by."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def move(self, seconds: float) -> None:
        """Let `seconds` pass for the engine (a lease runs out) without waiting for them."""
        self.offset += timedelta(seconds=seconds)


def fast_settings(environ: dict[str, str] | None = None, lease_seconds: float = 30.0) -> Settings:
    settings = load_settings(APP_YAML, environ={"DTSBOT_POLL_SECONDS": "0.05", **(environ or {})})
    scheduler = SchedulerSettings(poll_seconds=0.05, lease_seconds=lease_seconds)
    return settings.model_copy(update={"scheduler": scheduler})


def done(request: MigrationRequest, run: int) -> StepResult:
    return StepResult(Outcome.DONE)


def uses_role(request: MigrationRequest, run: int) -> StepResult:
    """authorize_source as the real step reports it: the request now uses its source role (made by the bot)."""
    return StepResult(Outcome.DONE, facts={"role_used": True, "role_owner": request.id},
                      owned=(Owned("uses", "role", request.source_uin, request.role_name),))


def running_once_then_done(request: MigrationRequest, run: int) -> StepResult:
    if run == 1:
        return StepResult(Outcome.WAIT, facts={"progress": 50, "lag_seconds": 3}, retry_after=0.01)
    return StepResult(Outcome.DONE, facts={"progress": 100})


class ScriptedSteps:
    """Step functions `(request, clients) -> StepResult` per state; `runs` counts each (request, state) run."""

    def __init__(self, **behaviours: Behaviour) -> None:
        self.runs: Counter[tuple[str, str]] = Counter()
        self.owners: Counter[str] = Counter()  # step runs per engine owner (its pool's threads are dtsbot-<owner>_n)
        self._lock = threading.Lock()
        self.behaviours: dict[str, Behaviour] = {state: done for state in STATES}
        self.behaviours["authorizing_source"] = uses_role
        self.behaviours["creating_task"] = lambda r, n: StepResult(Outcome.DONE, facts={"job_id": f"dts-{r.id}"})
        self.behaviours["running"] = running_once_then_done
        self.behaviours.update(behaviours)

    def step(self, state: str) -> Callable[[MigrationRequest, object], StepResult]:
        def run(request: MigrationRequest, clients: object) -> StepResult:
            with self._lock:
                self.runs[(request.id, state)] += 1
                count = self.runs[(request.id, state)]
                self.owners[threading.current_thread().name.removeprefix("dtsbot-").rsplit("_", 1)[0]] += 1
            return self.behaviours[state](request, count)

        run.__name__ = state
        return run

    @property
    def table(self) -> dict[str, Callable[[MigrationRequest, object], StepResult]]:
        return {state: self.step(state) for state in STATES}


def add_approved(db: Engine, count: int = 1, **fields: object) -> list[str]:
    """Store `count` requests and move each to approved (both owners approved)."""
    ids = []
    with session_scope(db) as session:
        for _ in range(count):
            request, _created = repository.create_request(session, {**FIELDS, **fields}, "U0REQUESTER")
            repository.update_request(session, request, state="approved")
            ids.append(request.id)
    return ids


def load(db: Engine, request_id: str) -> MigrationRequest:
    with session_scope(db) as session:
        request = repository.get_request(session, request_id)
        assert request is not None
        return request


def notices(db: Engine, request_id: str) -> list[OutboxMessage]:
    """The request's thread notices in queue order."""
    with session_scope(db) as session:
        return list(session.exec(
            select(OutboxMessage).where(OutboxMessage.request_id == request_id, OutboxMessage.kind == "thread")
            .order_by(col(OutboxMessage.id))
        ).all())


def events(db: Engine, request_id: str) -> list[str]:
    return [message.payload["event"] for message in notices(db, request_id)]

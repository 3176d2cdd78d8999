"""A whole migration against `dtsbot serve` replicas, and what "each change once" means in the sandboxes.

`Cluster` holds the sandboxes, the database and the replicas; `open_request` / `approve` play the people over
signed HTTP; `cloud_changes` counts the cloud writes that took effect, from the sandbox's call log (a write
whose answer was lost still took effect: `committed-dropped`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from serveproc import Replica, bot_env, write_config
from sqlmodel import col, select

from bot import blocks
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import Instance
from sandbox.waiting import eventually, while_progressing
from storage.db import make_engine, session_scope
from storage.models import MigrationRequest, OutboxMessage
from tests.support.commands import INLINE, inline
from tests.support.workspace import CHANNEL, REQUESTER, SIGNING_SECRET, SOURCE_OWNER, TARGET_OWNER, TARGET_UIN

EXTRA_TARGETS = [f"cdb-dst{n:05d}" for n in range(101, 301)]
"""More MySQL instances in the target account: one unfinished request per target instance, so a test that runs
several migrations at once gives each its own (`Cluster.open_request(..., target=n)`)."""
REACHED_RUNNING = ("running", "ready_to_complete", "completing", "revoking_access", "succeeded")
STEP_ORDER = {state: n for n, state in enumerate((
    "requested", "approved", "authorizing_source", "granting_subaccount", "preflight", "creating_task", "configuring",
    "verifying", "starting", *REACHED_RUNNING), start=1)}
"""How far along the way to Running a state is: a wait on many requests fails only when none moves on."""
WRITES = ("CreateRole", "AttachRolePolicy", "CreatePolicy", "AttachUserPolicy", "CreateMigrationService",
          "ModifyMigrationJob", "CreateMigrateCheckJob", "StartMigrateJob", "TagResources")


@dataclass
class Cluster:
    """The sandboxes, one database and the `dtsbot serve` replicas started on them."""

    tencentcloud: TencentCloudSandbox
    slack: SlackEmulator
    directory: Path
    database_url: str
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    """app.yaml keys per section for this cluster (see serveproc.write_config)."""
    replicas: list[Replica] = field(default_factory=list)

    def __enter__(self) -> Self:
        target = self.tencentcloud.world.account(TARGET_UIN)
        known = {i.instance_id for i in target.instances}
        target.instances += [Instance(i, "mysql", "ap-guangzhou", f"10.0.{9 + n // 250}.{n % 250 + 1}", 3306)
                             for n, i in enumerate(EXTRA_TARGETS) if i not in known]
        logins = {i: {"user": "dts_writer", "password": "sandbox-target-db-password"} for i in EXTRA_TARGETS}
        overrides = {**self.overrides, "databases": {**logins, **self.overrides.get("databases", {})}}
        self.config = write_config(self.directory, overrides=overrides)
        self.db = make_engine(self.database_url)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for replica in self.replicas:
            replica.kill()
        self.db.dispose()

    # -- replicas --------------------------------------------------------------------------------------
    def replica(self, name: str = "bot", start: bool = True) -> Replica:
        """A new replica process (logs in `<name>.log`), started and healthy unless `start=False`."""
        env = bot_env(self.tencentcloud.endpoint, self.slack.base_url, self.database_url)
        replica = Replica(self.config, env, self.directory / f"{name}.log")
        self.replicas.append(replica)
        return replica.start() if start else replica

    def logs(self) -> str:
        return "".join(r.log_path.read_text(errors="replace") for r in self.replicas if r.log_path.exists())

    def driver(self, replica: Replica) -> SlackDriver:
        return SlackDriver(replica.url, SIGNING_SECRET, self.slack)

    # -- people ----------------------------------------------------------------------------------------
    def open_request(self, replica: Replica, extra: str = "", target: int | None = None) -> str:
        """An inline request (into EXTRA_TARGETS[target] when given); returns its id once the bot confirmed it."""
        before = len(self.slack.ephemerals(REQUESTER))
        text = INLINE if target is None else inline(target_instance=EXTRA_TARGETS[target])
        assert self.driver(replica).slash(REQUESTER, f"{text} {extra}".strip()).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(REQUESTER)[before:], timeout=15)[0]
        return next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))

    def request_message(self, request_id: str, timeout: float = 30) -> dict:
        ts = eventually(lambda: self.request(request_id).message_ts, timeout, f"{request_id}'s message")
        return self.slack.message(ts)

    def approve(self, replica: Replica, request_id: str) -> None:
        message = self.request_message(request_id)
        driver = self.driver(replica)
        assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200
        assert driver.click(TARGET_OWNER, message, "approve_target").status == 200

    # -- observing -------------------------------------------------------------------------------------
    def request(self, request_id: str) -> MigrationRequest:
        with session_scope(self.db) as session:
            found = session.get(MigrationRequest, request_id)
        assert found is not None
        return found

    def wait_running(self, request_ids: list[str], timeout: float = 60) -> None:
        """Every request reaches Running; fails on a failed request, or when none moves on for `timeout` s."""
        def states() -> dict[str, str]:
            with session_scope(self.db) as session:
                rows = session.exec(select(MigrationRequest).where(col(MigrationRequest.id).in_(request_ids))).all()
            failed = [(r.id, r.last_error) for r in rows if r.state == "failed"]
            assert not failed, failed
            return {r.id: r.state for r in rows}

        def moved_on() -> int:
            return sum(STEP_ORDER.get(state, 0) for state in states().values())

        def reached() -> bool:
            return all(state in REACHED_RUNNING for state in states().values())

        while_progressing(reached, moved_on, timeout, f"{len(request_ids)} requests to reach Running", interval=0.2)

    def thread(self, request_id: str) -> list[str]:
        """The texts of the request's thread replies, as Slack shows them."""
        return [m.get("text") or "" for m in self.slack.thread(CHANNEL, self.request(request_id).message_ts)]

    def stop(self) -> None:
        """Stop every replica gracefully (each finishes the notice it is sending): Slack and the outbox hold still."""
        for replica in self.replicas:
            replica.stop()

    def outbox_thread(self, request_id: str) -> list[str]:
        """The request's delivered thread notices in queue order, rendered as the notifier posts them."""
        with session_scope(self.db) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.request_id == request_id,
                                                            OutboxMessage.kind == "thread",
                                                            col(OutboxMessage.sent_at).is_not(None))
                                .order_by(col(OutboxMessage.id))).all()
            return [blocks.notice(request_id, row.payload)["text"] for row in rows]

    def wait_delivered(self, timeout: float = 30) -> None:
        """Every queued notice reached Slack."""
        def drained() -> bool:
            with session_scope(self.db) as session:
                return not session.exec(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).first()

        def sent() -> int:
            with session_scope(self.db) as session:
                return len(session.exec(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_not(None))).all())

        while_progressing(drained, sent, timeout, "the outbox to drain", interval=0.2)

    def cloud_changes(self) -> Counter[tuple[str, str]]:
        """Writes that took effect, by (action, what they changed)."""
        changes: Counter[tuple[str, str]] = Counter()
        for record in self.tencentcloud.calls.records:
            if record.action in WRITES and record.outcome in ("ok", "committed-dropped"):
                p = record.params
                key = p.get("RoleName") or p.get("PolicyName") or p.get("JobId") or p.get("JobName") or ""
                if record.action in ("AttachRolePolicy", "AttachUserPolicy"):
                    key = f"{p.get('AttachRoleName') or p.get('AttachUin')}:{p.get('PolicyName') or p.get('PolicyId')}"
                changes[(record.action, str(key))] += 1
        return changes

    def jobs_of(self, request_id: str) -> list[str]:
        """DTS jobs the target account holds for this request (by the bot's tag)."""
        backend = self.tencentcloud.world.services.get("dts")
        if backend is None:
            return []
        return [j.job_id for j in backend.jobs.values() if j.tags.get("dtsbot-request") == request_id]

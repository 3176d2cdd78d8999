"""One running `dtsbot serve` replica, wired in one place: database, Slack client, notifier, Bolt app, scheduler,
HTTP server (or Socket Mode).

The scheduler is made by a factory so the workflow engine (core/scheduler.py with handlers.STEPS) plugs in
here and tests can run the Slack side without it. Without a scheduler the notifier runs its own loop.
"""

from __future__ import annotations

import functools
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.app import build_app
from bot.directory import SlackDirectory
from bot.notifier import Notifier, web_client
from bot.server import HttpServer, WsgiApp, ops_app, socket_mode, wsgi_app
from bot.sweep_report import daily_sweep
from core.cloud import CloudCall, CloudClients
from core.config import Settings
from core.engine import record_cloud_call
from core.logins import DatabaseLogins
from core.logs import redact_also
from core.metrics import CONTENT_TYPE, Metrics
from core.reminders import queue_reminders
from core.requests import MigrationRequests, Resumer
from core.scheduler import Scheduler
from handlers import CLOSEOUT_STEPS, STEPS
from handlers.role_check import inspect_role
from storage import gauges
from storage.db import current_revision, head_revision, make_engine, migrate
from storage.gauges import Gauges
from storage.probe import probe

log = logging.getLogger(__name__)
SWEEP_CHECK_SECONDS = 3600.0
"""How often a replica with `sweep.enabled` asks whether today's sweep is due (it runs once a day)."""
HEALTH_PROBE_SECONDS = 2.0
"""/healthz's database probe gives up after this long: a locked or stopped database shows within seconds."""


class StartupError(Exception):
    """The replica cannot start; the message is one line naming what, why and the key to fix."""


class SchedulerLike(Protocol):
    """What the runtime needs of core.scheduler.Scheduler."""

    def start(self) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    def kick(self, request_id: str) -> None: ...
    def alive(self) -> bool: ...


SchedulerFactory = Callable[[Settings, Engine, Notifier, MigrationRequests, str, Metrics], SchedulerLike]


def workflow_scheduler(settings: Settings, db: Engine, notifier: Notifier, requests: MigrationRequests,
                       owner: str, metrics: Metrics) -> SchedulerLike:
    """The workflow engine's APScheduler scheduler with the cloud steps, the notifier, the expiry sweep and the
    reminders before expiry."""
    def on_call(call: CloudCall) -> None:
        record_cloud_call(call)
        metrics.cloud_calls.labels(action=call.action, outcome=call.outcome).inc()

    clients = CloudClients(settings, on_call=on_call, logins=requests.logins)  # one cache of logins per replica
    jobs = {"sweep": (functools.partial(daily_sweep, settings, db, notifier.client, clients), SWEEP_CHECK_SECONDS)
            } if settings.sweep.enabled else {}
    return Scheduler(settings, db, STEPS, clients, notifier.flush, owner, jobs=jobs,
                     expire=requests.expire_overdue, remind=functools.partial(queue_reminders, db, settings),
                     on_cycle=metrics.poll_cycle.observe, on_tick=metrics.last_tick.set_to_current_time,
                     closeout_steps=CLOSEOUT_STEPS)


def _resumers(scheduler: SchedulerLike | None) -> dict[str, Resumer]:
    engine = getattr(scheduler, "engine", None)
    if engine is None:
        return {}
    return {"reverify": engine.request_reverify, "complete": engine.request_complete, "retry": engine.request_retry,
            "retry_task": engine.request_retry, "guided_verify": engine.request_owner_verify,
            "pause": engine.request_pause, "continue": engine.request_continue}


@dataclass
class Runtime:
    """The parts of one replica; `start()` serves Slack and runs the scheduler, `stop()` ends both."""

    settings: Settings
    db: Engine
    client: WebClient
    notifier: Notifier
    app: App
    metrics: Metrics
    scheduler: SchedulerLike | None
    http: HttpServer | None
    socket_mode: SocketModeHandler | None
    ops: HttpServer | None = None
    """The `metrics.port` listener (/healthz, /metrics), when configured."""

    def start(self) -> None:
        """Start the scheduler (or the notifier's own loop), then accept Slack's requests."""
        if self.ops is not None:
            url = self.ops.start()
            log.info("listening on %s: /healthz and /metrics (%s from this machine)", self.ops.address, url)
        if self.scheduler is not None:
            self.scheduler.start()
        else:
            self.notifier.start()
        if self.socket_mode is not None:
            try:
                self.socket_mode.connect()
            except (SlackApiError, BoltError, OSError) as error:
                self.stop()
                raise StartupError(f"slack.app_token: Socket Mode cannot connect: {_reason(error)}") from None
            log.info("Socket Mode connected")
        elif self.http is not None:
            url = self.http.start()
            log.info("listening on %s: Slack events (%s/slack/events from this machine)", self.http.address, url)

    def stop(self) -> None:
        """Stop taking requests, then stop the scheduler and the notifier."""
        if self.socket_mode is not None:
            self.socket_mode.close()
        if self.http is not None:
            self.http.stop()
        if self.ops is not None:
            self.ops.stop()
        self.notifier.stop()  # first: a flush running inside the scheduler stops after its current notice
        if self.scheduler is not None:
            self.scheduler.shutdown()

    def health(self) -> tuple[bool, str]:
        """/healthz: the database takes a write within seconds and the scheduler ticks (the answer says which
        failed, never why: /healthz may be public)."""
        problem = probe(self.settings.storage.url, HEALTH_PROBE_SECONDS)
        if problem is not None:  # the reason may name the database's host and user: the log has it, not the probe
            log.warning("health: the database does not take a write: %s", problem)
            return False, "database: unavailable"
        if self.scheduler is not None and not self.scheduler.alive():
            return False, "scheduler: not ticking"
        return True, "ok"


def build_runtime(settings: Settings, *, scheduler_factory: SchedulerFactory | None = workflow_scheduler,
                  host: str = "0.0.0.0", owner: str | None = None, migrate_schema: bool = True) -> Runtime:
    """Wire a replica from the settings: migrate the schema (or, with `migrate_schema=False`, require it at this
    version's head: `serve --no-migrate` in a rolling upgrade), build every part, start nothing yet."""
    owner = owner or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
    db = _database(settings.storage.url, migrate_schema)
    client = web_client(settings)
    metrics = Metrics(lambda: _read_gauges(db, settings.storage.url))
    directory = SlackDirectory(client)  # one per replica: the app and the notifier see the same answers
    notifier = Notifier(client, db, settings, owner, metrics=metrics, directory=directory)
    requests = MigrationRequests(db, settings, logins=DatabaseLogins(settings, on_secret=redact_also))
    scheduler = scheduler_factory(settings, db, notifier, requests, owner, metrics) if scheduler_factory else None
    kick: Callable[[str], None] = scheduler.kick if scheduler is not None else (lambda _id: None)
    inspect = functools.partial(inspect_role, clients=CloudClients(settings)) if scheduler is not None else None
    try:
        app = build_app(settings, db, client, kick, resumers=_resumers(scheduler), wake=notifier.wake,
                        members_of=directory,
                        inspect_role=inspect, unrecorded=metrics.unrecorded.inc, logins=requests.logins)
    except (BoltError, SlackApiError, OSError) as error:
        where = settings.slack.api_url or "https://slack.com/api/"
        raise StartupError(f"slack.bot_token: auth.test at {where} failed: {_reason(error)}; check the token "
                           "(SLACK_BOT_TOKEN) and that Slack is reachable") from None
    runtime = Runtime(settings, db, client, notifier, app, metrics, scheduler, None, None)

    def render() -> tuple[bytes, str]:
        return metrics.render(), CONTENT_TYPE

    port = settings.metrics.port  # 0: an ephemeral port, so never the Slack one
    separate = port is not None and (settings.slack.app_token is not None or port == 0 or port != settings.slack.port)
    if separate:
        runtime.ops = _listen(ops_app(runtime.health, render), port, host, "metrics.port",
                              "DTSBOT_METRICS_PORT")
    if settings.slack.app_token is not None:
        runtime.socket_mode = socket_mode(app, settings)
        return runtime
    application = wsgi_app(app, runtime.health, None if separate else render,
                           signing_secret=settings.slack.signing_secret.get_secret_value())
    runtime.http = _listen(application, settings.slack.port, host, "slack.port", "DTSBOT_PORT")
    return runtime


def _listen(application: WsgiApp, port: int | None, host: str, key: str, env: str) -> HttpServer:
    """An HttpServer bound to host:port, or a StartupError naming the key (and its variable in app.yaml)."""
    try:
        return HttpServer(application, port or 0, host)
    except OSError as error:
        raise StartupError(f"{key} {port}: cannot listen on {host}: {_reason(error)}; "
                           f"choose a free port ({env})") from None


def open_database(url: str) -> Engine:
    """The engine of `storage.url`, connected once; a StartupError naming the key (password hidden) if it is not
    reachable."""
    try:
        db = make_engine(url)
        current_revision(db)
    except (SQLAlchemyError, OSError) as error:
        raise _cannot_open(url, error) from None
    return db


def _cannot_open(url: str, error: BaseException) -> StartupError:
    return StartupError(f"storage.url {make_url(url).render_as_string(hide_password=True)}: cannot open the "
                        f"database: {_reason(error)}; check that it is reachable and writable (DTSBOT_DATABASE_URL)")


def _database(url: str, migrate_schema: bool = True) -> Engine:
    """The engine with the schema migrated (or checked at head), or a StartupError naming storage.url (password
    hidden)."""
    db = open_database(url)
    try:
        if migrate_schema:
            migrate(db)
        current = current_revision(db)
    except (SQLAlchemyError, OSError) as error:
        raise _cannot_open(url, error) from None
    if current != head_revision():
        shown = make_url(url).render_as_string(hide_password=True)
        raise StartupError(f"storage.url {shown}: the schema is at {current or 'nothing'}, this version needs "
                           f"{head_revision()}; run `dtsbot db upgrade` first (--no-migrate)")
    return db


def _reason(error: BaseException) -> str:
    """The first line of the innermost error's message (SQLAlchemy and Bolt wrap theirs)."""
    inner = getattr(error, "orig", None) or getattr(error, "reason", None) or error
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return text[:300]


def _read_gauges(db: Engine, url: str) -> Gauges | None:
    """The database's gauges, or None when it does not answer within the probe's bound."""
    if probe(url, HEALTH_PROBE_SECONDS) is not None:
        return None
    try:
        with Session(db) as session:
            return gauges.read(session, datetime.now(UTC))
    except SQLAlchemyError:
        return None

"""The daily sweep runs once a day across replicas: several replicas asking at the same moment (their
schedulers tick together after a deploy) post one sweep, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlmodel import select

from bot.sweep_report import daily_sweep
from core.cloud import CloudClients
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.db import session_scope
from storage.models import AuditEntry
from tests.support.workspace import serve_settings

REPLICAS = 4


def test_replicas_asking_at_once_run_one_sweep(engine, database_url) -> None:
    with SlackEmulator() as slack, TencentCloudSandbox(default_world()) as cloud:
        settings = serve_settings(slack, cloud.endpoint, database_url)
        clients = CloudClients(settings)
        client = WebClient(token=slack.token, base_url=slack.base_url)
        at_noon = datetime.now(UTC).replace(hour=12)
        together = threading.Barrier(REPLICAS)

        def replica(_: int) -> bool:
            together.wait()
            return daily_sweep(settings, engine, client, clients, lambda: at_noon)

        with ThreadPoolExecutor(REPLICAS) as pool:
            ran = list(pool.map(replica, range(REPLICAS)))
        assert ran.count(True) == 1, ran
        with session_scope(engine) as session:
            entries = session.exec(select(AuditEntry).where(AuditEntry.step == "sweep",
                                                            AuditEntry.action == "daily")).all()
        assert len(entries) == 1

"""A database outage during a click, against a running `dtsbot serve`: the click is acked, the person is told it
was not recorded (through response_url, which needs no database), the failure is counted in /metrics,
/healthz turns 503 within seconds, and once the database is back the same click records the approval."""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request

from flow import INLINE, REQUESTER, SOURCE_OWNER, Cluster
from serveproc import wait_until
from sqlmodel import select

from bot.listeners.acks import NOT_RECORDED
from storage.db import session_scope
from storage.models import Approval, MigrationRequest

WAIT = 90.0  # the bot's own SQLite busy timeout is 30 s; the machine is shared


def _healthz(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def _approvals(cluster: Cluster, request_id: str) -> list[Approval]:
    with session_scope(cluster.db) as session:
        return list(session.exec(select(Approval).where(Approval.request_id == request_id)).all())


def test_a_click_and_a_command_during_a_database_lock_are_answered_and_recorded_after_a_retry(cluster: Cluster, tmp_path):
    replica = cluster.replica()
    request_id = cluster.open_request(replica)
    message = cluster.request_message(request_id)
    driver = cluster.driver(replica)
    seen = len(cluster.slack.ephemerals(SOURCE_OWNER))

    lock = sqlite3.connect(tmp_path / "dtsbot.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # every writer (the bot's transactions all are) now waits, then fails
    try:
        wait_until(lambda: _healthz(replica.url) == 503, 30, "/healthz to turn 503 while the database is locked")
        asked = len(cluster.slack.ephemerals(REQUESTER))
        assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200  # acked all the same
        assert driver.slash(REQUESTER, INLINE).status == 200  # a new request, too
        answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(SOURCE_OWNER)[seen:], timeout=WAIT)[0]
        assert answer["text"] == NOT_RECORDED
        answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(REQUESTER)[asked:], timeout=WAIT)[0]
        assert answer["text"] == NOT_RECORDED
        assert _metric(replica.url, "dtsbot_unrecorded_total") == 2.0
        assert _metric(replica.url, "dtsbot_database_up") == 0.0  # the scrape did not wait on the lock
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert _approvals(cluster, request_id) == []  # nothing changed
    with session_scope(cluster.db) as session:
        assert len(session.exec(select(MigrationRequest)).all()) == 1

    wait_until(lambda: _healthz(replica.url) == 200, WAIT, "/healthz to recover")
    seen = len(cluster.slack.ephemerals(SOURCE_OWNER))
    assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(SOURCE_OWNER)[seen:], timeout=WAIT)[0]
    assert answer["text"] != NOT_RECORDED
    assert [(a.side, a.user_id) for a in _approvals(cluster, request_id)] == [("source", SOURCE_OWNER)]

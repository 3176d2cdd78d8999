"""A database outage during a click, against a running `dtsbot serve`: the click is acked, the person is told it
was not recorded (through response_url, which needs no database), the failure is counted in /metrics,
/healthz turns 503 within seconds, and once the database is back the same click records the approval.
SQLite locked by another writer; PostgreSQL stopped (its TCP path cut: connections reset, new ones refused)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from flow import Cluster
from serveproc import free_port
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.listeners.acks import NOT_RECORDED
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import Approval, MigrationRequest
from tests.support.commands import INLINE
from tests.support.workspace import REQUESTER, SOURCE_OWNER

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
        eventually(lambda: _healthz(replica.url) == 503, 30, "/healthz to turn 503 while the database is locked")
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

    eventually(lambda: _healthz(replica.url) == 200, WAIT, "/healthz to recover")
    seen = len(cluster.slack.ephemerals(SOURCE_OWNER))
    assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(SOURCE_OWNER)[seen:], timeout=WAIT)[0]
    assert answer["text"] != NOT_RECORDED
    assert [(a.side, a.user_id) for a in _approvals(cluster, request_id)] == [("source", SOURCE_OWNER)]


class CuttableTcp:
    """A TCP forwarder to a database port that can be cut (every connection reset, new ones refused) and
    restored on the same port: the database stopping and coming back, as the bot's sockets see it."""

    def __init__(self, target_port: int) -> None:
        self.port, self._target = free_port(), target_port
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        _close(self._listener)
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self._target))
            except OSError:
                return
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept() or recv()
    except OSError:
        pass
    sock.close()


@pytest.fixture
def proxied_postgres(tencentcloud: TencentCloudSandbox, slack: SlackEmulator, tmp_path,
                     postgresql_url: str) -> Iterator[tuple[Cluster, CuttableTcp]]:
    url = make_url(postgresql_url)
    tcp = CuttableTcp(url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=tcp.port).render_as_string(hide_password=False)
    with Cluster(tencentcloud, slack, tmp_path, proxied) as cluster:
        yield cluster, tcp
    tcp.cut()


@pytest.mark.postgres
def test_a_click_while_postgresql_is_stopped_is_answered_and_recorded_after_a_retry(proxied_postgres):
    cluster, tcp = proxied_postgres
    replica = cluster.replica()
    request_id = cluster.open_request(replica)
    message = cluster.request_message(request_id)
    driver = cluster.driver(replica)
    seen = len(cluster.slack.ephemerals(SOURCE_OWNER))

    tcp.cut()
    eventually(lambda: _healthz(replica.url) == 503, 30, "/healthz to turn 503 while PostgreSQL is stopped")
    assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(SOURCE_OWNER)[seen:], timeout=WAIT)[0]
    assert answer["text"] == NOT_RECORDED
    assert _metric(replica.url, "dtsbot_unrecorded_total") == 1.0
    tcp.restore()

    eventually(lambda: _healthz(replica.url) == 200, WAIT, "/healthz to recover")
    assert _approvals(cluster, request_id) == []  # nothing changed
    seen = len(cluster.slack.ephemerals(SOURCE_OWNER))
    assert driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(SOURCE_OWNER)[seen:], timeout=WAIT)[0]
    assert answer["text"] != NOT_RECORDED
    assert [(a.side, a.user_id) for a in _approvals(cluster, request_id)] == [("source", SOURCE_OWNER)]

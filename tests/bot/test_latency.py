"""Slack gets its ack within 3 s even when the Web API is slow: listeners call Slack after the ack."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from tests.support.harness import migrated, running_bot
from tests.support.workspace import REQUESTER, bot_settings

DELAY = 3.5


class SlowProxy:
    """Forwards Web API calls to the emulator, all but auth.test after DELAY seconds: Slack on a bad day."""

    def __init__(self, target: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.endswith("/auth.test"):  # the start-up check stays quick
                    time.sleep(DELAY)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                with urllib.request.urlopen(urllib.request.Request(target + self.path, body, headers)) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def slow_bot(tmp_path) -> Iterator[tuple[SlackEmulator, SlackDriver]]:
    with SlackEmulator(trigger_ttl=10) as slack:
        proxy = SlowProxy(slack.url)
        db = migrated(tmp_path / "slow.db")
        try:
            with running_bot(slack, db, bot_settings(proxy.url + "/api/", str(db.url))) as bot:
                yield slack, bot.driver
        finally:
            proxy.server.shutdown()
            proxy.server.server_close()
            db.dispose()


def test_a_burst_of_commands_is_acked_fast_while_views_open_is_slow(slow_bot) -> None:
    slack, driver = slow_bot
    answers: list = []

    def send() -> None:
        answers.append(driver.slash(REQUESTER, ""))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status for a in answers] == [200] * 10
    assert max(a.elapsed for a in answers) < 1.0  # each views.open takes 3.5 s, after the ack
    views = slack.wait_for(lambda: len(slack.views) == 10 and slack.views, timeout=DELAY + 3)
    assert {v["callback_id"] for v in views} == {"request_form"}

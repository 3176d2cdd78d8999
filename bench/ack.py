"""Acknowledgement latency of `dtsbot serve` against a bare Bolt app, measured in the same run (prints, never asserts).

    .venv/bin/python bench/ack.py [--requests 2000] [--clients 32] [--postgres postgresql+psycopg://...]

Signed slash commands (`/dts-migrate list`, half) and approval clicks (the other half; a stranger's click, so
each is refused and audited — a write per click without ever approving) go over HTTP to a `dtsbot serve`
child process on SQLite and, with --postgres, on PostgreSQL; the bare app is a Bolt App with the same server
adapter (bot/server.py's wsgi_app and HttpServer) whose listeners only ack. Each target gets the same mix from
`--clients` concurrent clients. Targets: p99 < 100 ms on a 2-core machine, and at most 1.5x the bare app.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
from flow import INLINE, REQUESTER, SIGNING_SECRET
from serveproc import Replica, bot_env, wait_until, write_config

from bot.server import HttpServer, wsgi_app
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox

STRANGER = "U0STRANGER"


def bare_app(slack: SlackEmulator) -> HttpServer:
    """A Bolt app that only acks, behind the same WSGI adapter and threaded server as `dtsbot serve`."""
    app = App(signing_secret=SIGNING_SECRET, client=WebClient(token=slack.token, base_url=slack.base_url))
    app.command("/dts-migrate")(lambda ack: ack())
    app.action("approve_source")(lambda ack: ack())
    server = HttpServer(wsgi_app(app), port=0, host="127.0.0.1")
    server.start()
    return server


def measure(driver: SlackDriver, message: dict, requests: int, clients: int) -> dict[str, float]:
    """Send the mix; per-request latency until the HTTP answer (the ack)."""
    def one(i: int) -> float:
        answer = (driver.slash(REQUESTER, "list") if i % 2 else driver.click(STRANGER, message, "approve_source"))
        assert answer.status == 200, answer
        return answer.elapsed

    for i in range(50):  # warm-up: connections, caches, JIT-less but lazy imports
        one(i)
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(pool.map(one, range(requests)))
    wall = time.monotonic() - started
    return {"p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "max": latencies[-1] * 1000, "rps": requests / wall}


def bot_target(slack: SlackEmulator, tencentcloud: TencentCloudSandbox, database_url: str,
               directory: Path) -> tuple[Replica, dict]:
    """`dtsbot serve` on `database_url` with one open request whose message carries the buttons."""
    replica = Replica(write_config(directory), bot_env(tencentcloud.endpoint, slack.base_url, database_url),
                      directory / "serve.log").start()
    driver = SlackDriver(replica.url, SIGNING_SECRET, slack)
    before = len(slack.messages())
    driver.slash(REQUESTER, INLINE)
    message = wait_until(lambda: slack.messages()[before:], 30, "the request message")[0]
    return replica, message


def fresh_postgres(url: str) -> tuple[str, object]:
    name = f"dtsbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres", help="PostgreSQL admin URL; a scratch database is created and dropped")
    args = parser.parse_args()

    rows: list[tuple[str, dict[str, float]]] = []
    with SlackEmulator() as slack, TencentCloudSandbox() as tencentcloud:
        bare = bare_app(slack)
        try:
            fake_message = {"ts": "1.000001", "channel": "C0DTSBOT01", "blocks": [{
                "type": "actions", "block_id": "b", "elements": [
                    {"type": "button", "action_id": "approve_source", "value": "mr-x:1",
                     "text": {"type": "plain_text", "text": "Approve"}}]}]}
            slack.workspace.by_ts[fake_message["ts"]] = ("C0DTSBOT01", fake_message)
            rows.append(("bare Bolt app (ack only)",
                         measure(SlackDriver(bare.url, SIGNING_SECRET, slack), fake_message, args.requests,
                                 args.clients)))
        finally:
            bare.stop()
        targets = [("dtsbot serve, SQLite", lambda d: f"sqlite:///{d / 'bench.db'}", None)]
        if args.postgres:
            url, drop = fresh_postgres(args.postgres)
            targets.append(("dtsbot serve, PostgreSQL", lambda _d: url, drop))
        for label, database, cleanup in targets:
            with tempfile.TemporaryDirectory() as scratch:
                replica, message = bot_target(slack, tencentcloud, database(Path(scratch)), Path(scratch))
                try:
                    rows.append((label, measure(SlackDriver(replica.url, SIGNING_SECRET, slack), message,
                                                args.requests, args.clients)))
                finally:
                    replica.stop()
                    if cleanup:
                        cleanup()

    bare_p99 = rows[0][1]["p99"]
    print(f"{args.requests} requests (half /dts-migrate list, half approval clicks), {args.clients} clients")
    print(f"{'target':<28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>8} {'p99 / bare':>11}")
    for label, r in rows:
        print(f"{label:<28} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f} {r['rps']:>8.0f} "
              f"{r['p99'] / bare_p99:>10.2f}x")


if __name__ == "__main__":
    main()

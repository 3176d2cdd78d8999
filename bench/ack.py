"""Acknowledgement latency of `dtsbot serve` against a bare Bolt app, measured in the same run (prints, never asserts).

    .venv/bin/python bench/ack.py [--requests 2000] [--clients 32] [--rate 50 ...] [--postgres postgresql+psycopg://...]

Signed slash commands (`/dts-migrate list`, half) and approval clicks (the other half; a stranger's click, so
each is refused and audited — a write per click without ever approving) go over HTTP to a `dtsbot serve`
child process on SQLite and, with --postgres, on PostgreSQL. The bare app (bench/bare_app.py) is a child
process too: the same Bolt configuration and HTTP server (waitress and the signature gate), listeners that only
ack. Each target gets the same mix, first closed-loop from `--clients` concurrent clients (each sends its next request when the last is
acked), then, for each --rate, open-loop at that many requests per second (Slack's traffic does not wait for
us). `dtsbot serve` runs app.yaml's scheduler poll (10 s), not the tests' fast one.

`ack` is the HTTP answer (what Slack's 3-second limit applies to); `answer` is when the bot's reply reached
the response_url (the work after the ack: database, audit, respond()); `CPU ms/req` is the target process's
CPU time (user + system) per request. Targets: ack p99 < 100 ms on a 2-core
machine, and at most 1.5x the bare app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH.parent / "tests" / "reliability")]
from serveproc import Replica, bot_env, free_port, write_config

from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.waiting import eventually
from tests.support.commands import INLINE
from tests.support.workspace import REQUESTER, SIGNING_SECRET, STRANGER

WARM_UP = 50
SHIPPED_POLL = "10"  # app.yaml's scheduler.poll_seconds: the tests' 0.3 s would add polling to the measurement


class TimedSlack(SlackEmulator):
    """The Slack emulator noting when each response_url was issued (the request sent) and first answered."""

    def __init__(self) -> None:
        super().__init__()
        self.issued: dict[str, float] = {}
        self.answered: dict[str, float] = {}

    def new_response_url(self, channel: str, user: str, message_ts: str | None = None,
                         is_ephemeral: bool = False) -> str:
        url = super().new_response_url(channel, user, message_ts, is_ephemeral)
        self.issued[url.rpartition("/")[2]] = time.monotonic()
        return url

    def handle_response_url(self, response_id: str, body: dict) -> tuple[int, dict, dict]:
        self.answered.setdefault(response_id, time.monotonic())
        return super().handle_response_url(response_id, body)

    def answer_delays(self, since: float) -> list[float]:
        """Seconds from sending to the bot's answer, for requests sent after `since` (monotonic)."""
        return sorted(self.answered[i] - t for i, t in list(self.issued.items()) if t >= since and i in self.answered)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50": statistics.median(ordered) * 1000, "p99": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
            "max": ordered[-1] * 1000}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(driver: SlackDriver, slack: TimedSlack, message: dict, requests: int, clients: int,
            rate: float | None, pid: int, answers: bool) -> dict[str, float]:
    """Send the mix (closed loop, or open loop at `rate`/s); ack latency, answer latency when `answers`, and
    the target's CPU per request (ack and work after it)."""
    def one(i: int) -> float:
        answer = (driver.slash(REQUESTER, "list") if i % 2 else driver.click(STRANGER, message, "approve_source"))
        assert answer.status == 200, answer
        return answer.elapsed

    warm_up = time.monotonic()
    for i in range(WARM_UP):  # connections, caches, lazy imports
        one(i)
    if answers:
        eventually(lambda: len(slack.answer_delays(warm_up)) >= WARM_UP, 30, "the warm-up's answers")
    started, cpu = time.monotonic(), cpu_seconds(pid)
    if rate is None:
        with ThreadPoolExecutor(clients) as pool:
            acks = list(pool.map(one, range(requests)))
    else:
        acks = open_loop(one, requests, rate)
    wall = time.monotonic() - started
    result = {**percentiles(acks), "rps": requests / wall}
    if answers:
        delays = eventually(lambda: (d := slack.answer_delays(started)) and len(d) >= requests and d, 60,
                            f"{requests} answers")
        result |= {f"answer_{k}": v for k, v in percentiles(delays).items()}
        result["answer_rps"] = requests / (max(slack.answered.values()) - started)
    result["cpu_ms"] = (cpu_seconds(pid) - cpu) / requests * 1000
    return result


def open_loop(one: Callable[[int], float], requests: int, rate: float) -> list[float]:
    """Request i is sent at i/rate seconds whether or not earlier ones were answered (enough sender threads)."""
    acks: list[float] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        elapsed = one(i)
        with lock:
            acks.append(elapsed)

    start = time.monotonic()
    with ThreadPoolExecutor(max(16, int(rate))) as pool:
        for i in range(requests):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, i)
    return acks


class BareApp:
    """bench/bare_app.py as a child process on a free port."""

    def __init__(self, slack_api_url: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, str(BENCH / "bare_app.py"), str(port), slack_api_url],
                                        cwd=BENCH.parent, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "bare Bolt app at ...": listening

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


def bot_target(slack: SlackEmulator, tencentcloud: TencentCloudSandbox, database_url: str,
               directory: Path) -> tuple[Replica, dict]:
    """`dtsbot serve` on `database_url` with one open request whose message carries the buttons."""
    env = {**bot_env(tencentcloud.endpoint, slack.base_url, database_url), "DTSBOT_POLL_SECONDS": SHIPPED_POLL}
    replica = Replica(write_config(directory, poll_seconds=float(SHIPPED_POLL)), env, directory / "serve.log").start()
    driver = SlackDriver(replica.url, SIGNING_SECRET, slack)
    before = len(slack.messages())
    driver.slash(REQUESTER, INLINE)
    message = eventually(lambda: slack.messages()[before:], 30, "the request message")[0]
    return replica, message


def fresh_postgres(url: str) -> tuple[str, Callable[[], None]]:
    name = f"dtsbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def report(title: str, rows: list[tuple[str, dict[str, float]]]) -> None:
    bare_p99 = rows[0][1]["p99"]
    print(title)
    print(f"{'target':<26} {'ack p50':>8} {'p99':>7} {'max':>7} {'req/s':>6} {'p99/bare':>8}"
          f" {'answer p50':>10} {'p99':>7} {'answers/s':>9} {'CPU ms/req':>10}")
    for label, r in rows:
        answer = (f" {r['answer_p50']:>10.1f} {r['answer_p99']:>7.1f} {r['answer_rps']:>9.0f}"
                  if "answer_p50" in r else f" {'-':>10} {'-':>7} {'-':>9}")
        print(f"{label:<26} {r['p50']:>8.1f} {r['p99']:>7.1f} {r['max']:>7.1f} {r['rps']:>6.0f}"
              f" {r['p99'] / bare_p99:>7.2f}x" + answer + f" {r['cpu_ms']:>10.2f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rate", type=float, action="append", default=[],
                        help="also run open-loop at this many requests per second (repeatable)")
    parser.add_argument("--postgres", help="PostgreSQL admin URL; a scratch database is created and dropped")
    args = parser.parse_args()
    loads: list[tuple[str, float | None]] = [(f"closed loop, {args.clients} clients", None)]
    loads += [(f"open loop, {rate:g} requests/s", rate) for rate in args.rate]
    results: dict[str, list[tuple[str, dict[str, float]]]] = {title: [] for title, _ in loads}

    with TimedSlack() as slack, TencentCloudSandbox() as tencentcloud:
        targets: list[tuple[str, Callable[[Path], str], Callable[[], None] | None]] = [
            ("dtsbot serve, SQLite", lambda d: f"sqlite:///{d / 'bench.db'}", None)]
        if args.postgres:
            url, drop = fresh_postgres(args.postgres)
            targets.append(("dtsbot serve, PostgreSQL", lambda _d: url, drop))
        for label, database, cleanup in targets:
            with tempfile.TemporaryDirectory() as scratch:
                replica, message = bot_target(slack, tencentcloud, database(Path(scratch)), Path(scratch))
                assert replica.process is not None
                try:
                    for title, rate in loads:
                        results[title].append((label, measure(
                            SlackDriver(replica.url, SIGNING_SECRET, slack), slack, message, args.requests,
                            args.clients, rate, replica.process.pid, answers=True)))
                finally:
                    replica.stop()
                    if cleanup:
                        cleanup()
        bare = BareApp(slack.base_url)
        try:  # clicks on the same request message as dtsbot's, so both parse the same payloads
            for title, rate in loads:
                results[title].insert(0, ("bare Bolt app (ack only)", measure(
                    SlackDriver(bare.url, SIGNING_SECRET, slack), slack, message, args.requests, args.clients,
                    rate, bare.process.pid, answers=False)))
        finally:
            bare.stop()

    print(f"{args.requests} requests per run (half /dts-migrate list, half approval clicks); latencies in ms")
    for title, rows in results.items():
        report(title, rows)


if __name__ == "__main__":
    main()

"""The HTTP surface of a running `dtsbot serve` (a child process, real sockets), as an attacker on the network
and a careless operator meet it: a body cap, an idle timeout, clean 4xx refusals with one log line and no
traceback, and start-up errors that are one line and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import yaml
from flow import Cluster
from serveproc import APP_YAML, Replica, bot_env, dtsbot_command, free_port

from bot.server import IDLE_TIMEOUT_SECONDS, MAX_BODY_BYTES
from sandbox.slack.driver import slack_headers
from sandbox.slack.emulator import SlackEmulator
from sandbox.waiting import eventually
from tests.support.workspace import SIGNING_SECRET

WAIT = 60.0  # generous: the machine is shared


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _connect(replica: Replica) -> socket.socket:
    return socket.create_connection(("127.0.0.1", replica.port), timeout=WAIT)


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def _read_answer(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _raw_post(replica: Replica, body: bytes, headers: dict[str, str]) -> int:
    """POST with exactly these headers (Content-Length as given, body bytes as given); the status."""
    lines = ["POST /slack/events HTTP/1.1", f"Host: 127.0.0.1:{replica.port}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    with _connect(replica) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return _status(_read_answer(conn))


def _closed(conn: socket.socket) -> bool:
    """True once the server closed the connection (EOF or reset); blocks up to the socket's timeout."""
    try:
        return conn.recv(65536) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def replica(cluster: Cluster) -> Replica:
    return cluster.replica()


def test_a_50_mb_body_is_refused_with_413_without_the_process_growing(replica):
    assert replica.process is not None
    before = _rss_kb(replica.process.pid)
    size = 50 * 1024 * 1024
    head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    with _connect(replica) as conn:
        conn.sendall(head + b"a" * 65536)
        assert _status(_read_answer(conn)) == 413  # answered from the headers, before the body
        sent = 65536
        try:  # the rest of the body goes nowhere: the connection is closed
            while sent < size:
                conn.sendall(b"a" * (1024 * 1024))
                sent += 1024 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass
    chunked = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    with _connect(replica) as conn:
        try:
            conn.sendall(chunked)
            for _ in range(50):
                conn.sendall(b"100000\r\n" + b"a" * 0x100000 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_answer(conn)
        assert answer == b"" or _status(answer) == 413
    grown_mb = (_rss_kb(replica.process.pid) - before) / 1024
    assert grown_mb < 8, f"the process grew by {grown_mb:.1f} MB"
    assert replica.healthy()


def test_a_body_at_the_cap_is_read_and_refused_only_as_unsigned(replica):
    body = b"a" * (MAX_BODY_BYTES - 1)
    assert _raw_post(replica, body, {"Content-Type": "application/x-www-form-urlencoded",
                                     "Content-Length": str(len(body))}) == 401


@pytest.mark.parametrize("partial", [b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Sign",
                                     b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"],
                         ids=["stalled-headers", "stalled-body"])
def test_a_connection_that_stalls_is_closed(replica, partial):
    with _connect(replica) as conn:
        conn.settimeout(IDLE_TIMEOUT_SECONDS * 6)  # generous: closed well before this, or the test fails
        conn.sendall(partial)
        assert _closed(conn)


def _signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    headers = slack_headers(SIGNING_SECRET, body, timestamp or str(int(time.time())), signed=True, forged=False,
                            retry_num=None, retry_reason="")
    return {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body)), **headers}


def _unsigned(body: bytes, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body)), **extra}


MALFORMED = {
    "unsigned not-json payload": (b"payload=%7Bnot-json", lambda b: _unsigned(b)),
    "unsigned invalid UTF-8": (b"payload=\xff\xfe\xfa", lambda b: _unsigned(b)),
    "non-numeric timestamp": (b"command=%2Fdts-migrate", lambda b: _unsigned(
        b, **{"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"})),
    "non-ASCII signature": (b"command=%2Fdts-migrate", lambda b: _unsigned(
        b, **{"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=\u00e9t\u00e9"})),
    "negative Content-Length": (b"", lambda b: {"Content-Type": "application/x-www-form-urlencoded",
                                                 "Content-Length": "-5"}),
    "signed payload list": (b"payload=%5B1%2C2%5D", _signed),
    "signed payload null": (b"payload=null", _signed),
    "signed not-json payload": (b"payload=%7Bnot-json", _signed),
    "signed invalid UTF-8": (b"payload=%7B%7D&text=\xff\xfe", _signed),
    "signed payload without user": (b"payload=%7B%22type%22%3A%22block_actions%22%7D", _signed),
    "signed payload with actions not a list": (
        b"payload=" + quote('{"type":"block_actions","user":{"id":"U1"},"actions":5}').encode(), _signed),
    "signed slash command without user_id": (b"command=%2Fdts-migrate&text=list", _signed),
    "signed click whose value is a number": (b"payload=" + quote(
        '{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"approve_source","value":12345}]}'
    ).encode(), _signed),
    "signed click without actions": (
        b"payload=" + quote('{"type":"block_actions","user":{"id":"U1"},"actions":[]}').encode(), _signed),
    "signed form whose view has no type": (
        b"payload=" + quote('{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1"}}').encode(), _signed),
    "signed form whose private_metadata is an object": (b"payload=" + quote(
        '{"type":"view_submission","user":{"id":"U1"},"view":{"private_metadata":{"request_id":"mr-1"}}}'
    ).encode(), _signed),
    "signed JSON body that is a list": (b"[1, 2]", lambda b: {**_signed(b), "Content-Type": "application/json"}),
}


def test_each_malformed_request_gets_a_4xx_and_no_traceback(cluster, replica):
    statuses = {name: _raw_post(replica, body, headers(body)) for name, (body, headers) in MALFORMED.items()}
    assert {n: s for n, s in statuses.items() if not 400 <= s < 500} == {}, statuses
    assert replica.healthy()
    logs = cluster.logs()
    assert "Traceback" not in logs, logs[-3000:]
    refusals = [line for line in logs.splitlines() if "refused" in line or "Content-Length is invalid" in line]
    assert len(refusals) <= len(MALFORMED), refusals


# -- start-up --------------------------------------------------------------------------------------------------

def _start(tmp_path: Path, env: dict[str, str], config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`dtsbot serve` expected to fail at start: its exit and output (it must not hang)."""
    return subprocess.run([*dtsbot_command(), "serve", "--config", str(config or APP_YAML)],
                          env={**_base_env(), **env}, cwd=tmp_path, capture_output=True, text=True, timeout=WAIT,
                          check=False)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DTSBOT_"))}


def _one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert "Traceback" not in output, output
    line = next((line for line in output.splitlines() if line.startswith("dtsbot: ")), "")
    assert all(needle in line for needle in needles), output
    return line


@pytest.fixture
def sandbox_env(tencentcloud, slack, tmp_path) -> dict[str, str]:
    return {**bot_env(tencentcloud.endpoint, slack.base_url, f"sqlite:///{tmp_path / 'bot.db'}"),
            "DTSBOT_PORT": str(free_port())}


def test_an_empty_signing_secret_is_refused_at_start_naming_the_key(tmp_path, sandbox_env):
    config = yaml.safe_load(APP_YAML.read_text())
    config["slack"]["signing_secret"] = ""
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(config))
    result = _start(tmp_path, sandbox_env, path)
    assert result.returncode == 2
    assert "slack.signing_secret: must not be empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unwritable_database_path_is_one_line(tmp_path, sandbox_env):
    (tmp_path / "a-file").write_text("not a directory")
    result = _start(tmp_path, {**sandbox_env, "DTSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/a-file/bot.db"})
    _one_clear_line(result, "storage.url", "cannot open the database")


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path, sandbox_env):
    url = f"postgresql+psycopg://dtsbot:hunter2-secret@127.0.0.1:{free_port()}/dtsbot"
    result = _start(tmp_path, {**sandbox_env, "DTSBOT_DATABASE_URL": url})
    _one_clear_line(result, "storage.url", "cannot open the database")
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_a_port_in_use_is_one_line(tmp_path, sandbox_env):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        result = _start(tmp_path, {**sandbox_env, "DTSBOT_PORT": str(taken.getsockname()[1])})
    _one_clear_line(result, "slack.port", "cannot listen")


def test_slack_unreachable_at_start_is_one_line(tmp_path, sandbox_env):
    result = _start(tmp_path, {**sandbox_env, "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"})
    _one_clear_line(result, "slack.bot_token", "auth.test")


def test_a_refused_token_at_start_is_one_line(tmp_path, sandbox_env, slack: SlackEmulator):
    result = _start(tmp_path, {**sandbox_env, "SLACK_BOT_TOKEN": "xoxb-not-the-token"})
    line = _one_clear_line(result, "slack.bot_token", "auth.test")
    assert "xoxb-not-the-token" not in result.stdout + result.stderr, line


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return True
    return False


def test_sigterm_answers_the_request_in_flight_then_exits(cluster, replica):
    """Graceful stop: a request half received when SIGTERM arrives is still read and acked; new connections
    are refused; the process exits 0."""
    assert replica.process is not None
    def request() -> tuple[bytes, bytes]:
        body = urlencode(cluster.driver(replica).slash_command("U0REQUESTER", "help")).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in _signed(body).items())
        return f"POST /slack/events HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode(), body

    with _connect(replica) as conn:
        head, body = request()
        conn.sendall(head + body)  # a first request on the connection: the server has accepted it
        assert _status(_read_answer(conn)) == 200
        head, body = request()
        conn.sendall(head + body[:20])
        replica.process.terminate()
        eventually(lambda: _refused(replica.port), WAIT, "the listening socket to close on SIGTERM")
        conn.sendall(body[20:])
        assert _status(_read_answer(conn)) == 200
    eventually(lambda: replica.process.poll() is not None, WAIT, "dtsbot serve to exit on SIGTERM")
    assert replica.process.returncode == 0
    assert "Traceback" not in cluster.logs()


def test_an_empty_secret_variable_is_refused_naming_the_variable_not_replaced_by_the_sandbox_value(tmp_path,
                                                                                                    sandbox_env):
    result = _start(tmp_path, {**sandbox_env, "SLACK_SIGNING_SECRET": ""})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "slack.signing_secret: ${SLACK_SIGNING_SECRET} is set but empty" in result.stderr


def test_the_published_sandbox_secrets_are_refused_unless_both_endpoints_are_loopback(tmp_path, sandbox_env):
    real_cloud = {k: v for k, v in sandbox_env.items() if k != "TENCENTCLOUD_ENDPOINT"}  # the real Tencent Cloud
    result = _start(tmp_path, real_cloud)
    _one_clear_line(result, "cannot start", "slack.bot_token", "is a published sandbox value")
    assert "dtsbot: cannot start: slack.signing_secret: is a published sandbox value" in result.stderr
    assert "databases.cdb-src00001.password: is a published sandbox value" in result.stderr
    assert "sandbox-signing-secret" not in result.stderr and "xoxb-sandbox" not in result.stderr
    _one_clear_line(_start(tmp_path, {**real_cloud, "TENCENTCLOUD_ENDPOINT": "sandbox.example.com:80"}),
                    "slack.bot_token", "published sandbox value")


def test_serve_no_migrate_refuses_a_schema_behind_this_version(tmp_path, sandbox_env):
    result = subprocess.run([*dtsbot_command(), "serve", "--no-migrate", "--config", str(APP_YAML)],
                            env={**_base_env(), **sandbox_env}, cwd=tmp_path, capture_output=True, text=True,
                            timeout=WAIT, check=False)
    _one_clear_line(result, "storage.url", "the schema is at nothing, this version needs", "dtsbot db upgrade")

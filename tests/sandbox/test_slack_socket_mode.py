"""The emulator's Socket Mode: apps.connections.open and the WebSocket link, spoken to over a raw socket."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.socket_mode import (
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ProtocolError,
    accept_key,
    encode_frame,
    read_frame,
)

APP_TOKEN = "xapp-1-sandbox"


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(app_token=APP_TOKEN) as emulator:
        yield emulator


def open_url(slack: SlackEmulator) -> str:
    return WebClient(base_url=slack.base_url).apps_connections_open(app_token=APP_TOKEN)["url"]


class RawClient:
    """A minimal WebSocket client: handshake, masked frames out, frames in."""

    def __init__(self, url: str, key: str | None = None) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=3)
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.stream = self.sock.makefile("rb")
        self.status_line = self.stream.readline().decode()
        self.headers: dict[str, str] = {}
        while (line := self.stream.readline().decode().strip()):
            name, _, value = line.partition(":")
            self.headers[name.lower()] = value.strip()

    def send(self, opcode: int, payload: bytes, fin: bool = True, masked: bool = True) -> None:
        frame = encode_frame(opcode, payload, os.urandom(4) if masked else None)
        self.sock.sendall(frame if fin else bytes([frame[0] & 0x7F]) + frame[1:])

    def receive(self) -> tuple[int, bytes]:
        _fin, opcode, payload = read_frame(self.stream, require_mask=False)
        return opcode, payload

    def receive_json(self) -> dict:
        opcode, payload = self.receive()
        assert opcode == OP_TEXT
        return json.loads(payload)

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def test_apps_connections_open_needs_the_app_level_token_in_the_header(slack) -> None:
    client = WebClient(base_url=slack.base_url)
    for token, error in [("xapp-1-wrong", "invalid_auth"), (slack.token, "not_allowed_token_type")]:
        with pytest.raises(SlackApiError) as refused:
            client.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    status, _, body = slack.handle_api("apps.connections.open", {"token": APP_TOKEN}, bearer=None)
    assert (status, body["error"]) == (200, "not_authed")  # a token in the body does not count
    url = open_url(slack)
    assert url.startswith(f"ws://{urlsplit(slack.url).netloc}/link/?ticket=") and "app_id=A0DTSBOT" in url
    assert all(c.args.get("token") in (None, "[redacted]") for c in slack.calls)


def test_handshake_hello_and_a_single_use_ticket(slack) -> None:
    url = open_url(slack)
    client = RawClient(url)
    assert client.status_line.startswith("HTTP/1.1 101")
    assert client.headers["sec-websocket-accept"] == accept_key(client.key)
    hello = client.receive_json()
    assert hello["type"] == "hello" and hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "A0DTSBOT"}
    again = RawClient(url)
    assert again.status_line.startswith("HTTP/1.1 401")
    again.close()
    client.close()


def test_a_request_that_is_not_a_websocket_upgrade_is_refused(slack) -> None:
    url = open_url(slack)
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=3) as sock:
        sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_envelopes_out_acks_in_pings_answered(slack) -> None:
    client = RawClient(open_url(slack))
    client.receive_json()  # hello
    envelope_id = slack.socket_mode.deliver("slash_commands", {"command": "/dts-migrate", "text": "help"})
    envelope = client.receive_json()
    assert envelope == {"envelope_id": envelope_id, "type": "slash_commands",
                        "payload": {"command": "/dts-migrate", "text": "help"}, "accepts_response_payload": True}
    client.send(OP_PING, b"session:1.0")
    assert client.receive() == (OP_PONG, b"session:1.0")
    ack = json.dumps({"envelope_id": envelope_id, "payload": {"text": "x" * 70_000}}).encode()
    client.send(OP_TEXT, ack[:10], fin=False)  # a fragmented message, reassembled
    client.send(OP_CONTINUATION, ack[10:])
    recorded = slack.socket_mode.wait_for_ack(envelope_id)
    assert recorded.payload == {"text": "x" * 70_000} and recorded.elapsed < 3.0
    with pytest.raises(TimeoutError):
        slack.socket_mode.wait_for_ack("never-sent", timeout=0.1)
    client.send(OP_CLOSE, struct.pack("!H", 1000))
    assert client.receive()[0] == OP_CLOSE
    client.close()


def test_an_unmasked_client_frame_closes_the_link_with_a_protocol_error(slack) -> None:
    client = RawClient(open_url(slack))
    client.receive_json()
    client.send(OP_TEXT, b"{}", masked=False)
    opcode, payload = client.receive()
    assert opcode == OP_CLOSE and struct.unpack("!H", payload[:2])[0] == 1002
    client.close()


def test_refresh_asks_the_app_to_reconnect_and_stop_closes_every_link(slack) -> None:
    first = RawClient(open_url(slack))
    first.receive_json()
    slack.socket_mode.request_refresh()
    assert first.receive_json()["type"] == "disconnect"
    second = RawClient(open_url(slack))
    assert second.receive_json()["num_connections"] == 2
    assert first.receive()[0] == OP_CLOSE  # the refreshed connection ends once the new one is open
    slack.stop()
    assert second.receive()[0] == OP_CLOSE
    first.close()
    second.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])
def test_frames_round_trip_at_each_length_encoding(size: int) -> None:
    payload = os.urandom(size)
    assert read_frame(io.BytesIO(encode_frame(OP_TEXT, payload, b"abcd"))) == (True, OP_TEXT, payload)
    assert read_frame(io.BytesIO(encode_frame(OP_TEXT, payload)), require_mask=False) == (True, OP_TEXT, payload)
    with pytest.raises(ProtocolError):
        read_frame(io.BytesIO(encode_frame(OP_TEXT, payload)))

"""Socket Mode for the emulator: the WebSocket link an app opens with the URL from `apps.connections.open`.

Slack's side of the protocol, stdlib only: the RFC 6455 handshake, text frames (the app's frames arrive masked,
ours go unmasked), ping/pong and close; the `hello` message on connect; envelopes delivered to the app
(`{"envelope_id", "type", "payload", "accepts_response_payload"}`) and the acks it sends back
(`{"envelope_id", "payload"?}`), recorded so a test can wait for the ack of an envelope.
"""

import base64
import hashlib
import json
import secrets
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

from sandbox.waiting import DEFAULT_SECONDS, budget

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR = 1000, 1001, 1002
LINK_PATH = "/link/"


class ProtocolError(Exception):
    """The peer broke RFC 6455 (e.g. an unmasked client frame); the link closes with 1002."""


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID))."""
    return base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame; a client masks its frames with a 4-byte key, a server never does."""
    head = bytes([0x80 | opcode])
    mask_bit = 0x80 if mask is not None else 0
    if len(payload) < 126:
        head += bytes([mask_bit | len(payload)])
    elif len(payload) < 1 << 16:
        head += struct.pack("!BH", mask_bit | 126, len(payload))
    else:
        head += struct.pack("!BQ", mask_bit | 127, len(payload))
    if mask is None:
        return head + payload
    return head + mask + _unmask(payload, mask)


def read_frame(stream: BinaryIO, require_mask: bool = True) -> tuple[bool, int, bytes]:
    """Read one frame: (fin, opcode, unmasked payload). EOFError when the peer is gone."""
    first, second = _read(stream, 2)
    fin, opcode, masked, length = bool(first & 0x80), first & 0x0F, bool(second & 0x80), second & 0x7F
    if first & 0x70:
        raise ProtocolError("reserved bits set without a negotiated extension")
    if require_mask and not masked:
        raise ProtocolError("client frames must be masked")
    if length == 126:
        (length,) = struct.unpack("!H", _read(stream, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read(stream, 8))
    mask = _read(stream, 4) if masked else None
    payload = _read(stream, length)
    return fin, opcode, _unmask(payload, mask) if mask else payload


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) < size:
        raise EOFError("the WebSocket peer closed the connection")
    return data


def _unmask(data: bytes, mask: bytes) -> bytes:
    key = int.from_bytes((mask * (len(data) // 4 + 1))[:len(data)], "big") if data else 0
    return (int.from_bytes(data, "big") ^ key).to_bytes(len(data), "big")


@dataclass
class Ack:
    """What the app sent back for an envelope: its optional response payload, and how long it took."""

    envelope_id: str
    payload: dict | None
    elapsed: float


class _Link:
    """One open WebSocket connection; writes come from the test thread and the reader thread, so locked."""

    def __init__(self, connection: socket.socket, wfile: BinaryIO) -> None:
        self.connection = connection
        self.wfile = wfile
        self._lock = threading.Lock()

    def send(self, opcode: int, payload: bytes) -> None:
        with self._lock:
            self.wfile.write(encode_frame(opcode, payload))

    def send_json(self, message: dict) -> None:
        self.send(OP_TEXT, json.dumps(message).encode())

    def close(self, code: int = CLOSE_GOING_AWAY, reason: str = "") -> None:
        """Send a close frame (best effort) and stop the reader, which then ends the connection."""
        try:
            self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class SocketMode:
    """Slack's Socket Mode service: tickets, open links, envelopes sent and acks received."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._links: list[_Link] = []
        self._refreshing: list[_Link] = []
        self._sent: dict[str, float] = {}
        self._acks: dict[str, Ack] = {}

    # -- connecting --------------------------------------------------------------------------------
    def issue_url(self, root_url: str) -> str:
        """A single-use WebSocket URL (what apps.connections.open returns) for the server at root_url."""
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets.add(ticket)
        host = urlsplit(root_url).netloc
        return f"ws://{host}{LINK_PATH}?ticket={ticket}&app_id={self.app_id}"

    def serve(self, target: str, headers: dict[str, str], connection: socket.socket, rfile: BinaryIO,
              wfile: BinaryIO) -> None:
        """Run the WebSocket at `target` (path?query of a GET) until it closes, on the request's thread."""
        ticket = (parse_qs(urlsplit(target).query).get("ticket") or [""])[0]
        key = headers.get("sec-websocket-key", "")
        if "websocket" not in headers.get("upgrade", "").lower() or not key \
                or headers.get("sec-websocket-version") != "13":
            wfile.write(_http_refusal(400, "Bad Request"))
            return
        with self._changed:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        if not valid:
            wfile.write(_http_refusal(401, "Unauthorized"))
            return
        wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        link = _Link(connection, wfile)
        with self._changed:
            self._links.append(link)
            count = len(self._links)
            replaced, self._refreshing = self._refreshing, []
            self._changed.notify_all()
        for old in replaced:  # the app reconnected after a refresh: Slack ends the old connection
            old.close(CLOSE_NORMAL, "refreshed")
        try:
            link.send_json(self.hello(count))
            self._receive(link, rfile)
        except (EOFError, OSError):
            pass
        except ProtocolError as error:
            link.close(CLOSE_PROTOCOL_ERROR, str(error)[:100])
        finally:
            with self._changed:
                self._links.remove(link)
                if link in self._refreshing:
                    self._refreshing.remove(link)
                self._changed.notify_all()

    def hello(self, num_connections: int) -> dict:
        """Slack's first message on a new connection."""
        return {"type": "hello", "num_connections": num_connections,
                "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id}}

    def _receive(self, link: _Link, rfile: BinaryIO) -> None:
        fragments: list[bytes] = []
        while True:
            fin, opcode, payload = read_frame(rfile)
            if opcode == OP_PING:
                link.send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                link.close(CLOSE_NORMAL)
                return
            elif opcode in (OP_TEXT, OP_CONTINUATION):
                fragments.append(payload)
                if fin:
                    self._record(b"".join(fragments))
                    fragments = []
            elif opcode != OP_PONG:
                raise ProtocolError(f"unexpected opcode {opcode:#x}")

    def _record(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not envelope_id:
            return
        with self._changed:
            sent = self._sent.get(envelope_id, time.monotonic())
            self._acks.setdefault(envelope_id, Ack(envelope_id, message.get("payload"), time.monotonic() - sent))
            self._changed.notify_all()

    # -- delivering --------------------------------------------------------------------------------
    def deliver(self, kind: str, payload: dict, accepts_response_payload: bool = True,
                timeout: float = DEFAULT_SECONDS) -> str:
        """Send an envelope of `kind` ("slash_commands", "interactive", ...) to the newest connection;
        waits up to `budget(timeout)` for the app to be connected. Returns the envelope_id."""
        timeout = budget(timeout)
        envelope_id = secrets.token_hex(16)
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": accepts_response_payload}
        with self._changed:
            if not self._changed.wait_for(lambda: self._links, timeout):
                raise TimeoutError(f"no Socket Mode connection within {timeout} s")
            link = self._links[-1]
            self._sent[envelope_id] = time.monotonic()
        link.send_json(envelope)
        return envelope_id

    def wait_connected(self, timeout: float = DEFAULT_SECONDS, count: int = 1) -> int:
        """Wait until at least `count` apps are connected; returns how many are."""
        timeout = budget(timeout)
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._links) >= count, timeout):
                raise TimeoutError(f"fewer than {count} Socket Mode connection(s) within {timeout} s")
            return len(self._links)

    def wait_for_ack(self, envelope_id: str, timeout: float = DEFAULT_SECONDS) -> Ack:
        """The app's ack of an envelope; TimeoutError if it does not come within `budget(timeout)` seconds.

        A wait, not Slack's 3 s rule: how fast acks are is measured by bench/ack.py, not asserted here."""
        timeout = budget(timeout)
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"envelope {envelope_id} not acknowledged within {timeout} s")
            return self._acks[envelope_id]

    @property
    def acks(self) -> list[Ack]:
        """Every ack received, in order."""
        with self._changed:
            return list(self._acks.values())

    @property
    def connections(self) -> int:
        """How many apps are connected now."""
        with self._changed:
            return len(self._links)

    def request_refresh(self) -> None:
        """Tell every connected app to reconnect, as Slack does before it recycles a connection; the old
        connections close once a new one is open."""
        with self._changed:
            links = list(self._links)
            self._refreshing.extend(links)
        for link in links:
            link.send_json({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "applink-sandbox"}})

    def reset(self) -> None:
        """Forget envelopes and acks (open connections stay)."""
        with self._changed:
            self._sent.clear()
            self._acks.clear()

    def close_all(self) -> None:
        """Close every connection (the emulator is stopping)."""
        with self._changed:
            links = list(self._links)
            self._tickets.clear()
        for link in links:
            link.close()


def _http_refusal(status: int, reason: str) -> bytes:
    body = reason.encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body

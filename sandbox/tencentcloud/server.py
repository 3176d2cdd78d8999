"""The Tencent Cloud sandbox server: what CAM, STS, DTS, MongoDB and Redis share on the wire.

One stdlib HTTP server answers the real SDK (`HttpProfile(endpoint="127.0.0.1:PORT", protocol="http")`):
TC3 signature check (`auth.py`), service from the credential scope, action from `X-TC-Action`, parameters
checked against the schema (`schema.py`), dispatch to the service's responses class (`RESPONDERS`), the
`{"Response": {...}}` envelope, fault injection (`faults.py`) and the call log (`calllog.py`).

Admin endpoint (no auth; the server binds 127.0.0.1 only):
    GET    /_sandbox/calls    -> {"calls": [CallRecord...]}       (params redacted)
    GET    /_sandbox/faults   -> {"faults": [Fault...]}
    POST   /_sandbox/faults   {"action", "kind", "count"?, "probability"?, "delay"?, "service"?} -> {"fault"}
    DELETE /_sandbox/faults   -> clears every fault
    POST   /_sandbox/clock    {"advance": seconds} -> {"now": sandbox epoch seconds}
    POST   /_sandbox/reset    -> clears calls and faults (the world keeps its state)

In code: `with TencentCloudSandbox(world) as sb: endpoint = sb.endpoint; sb.faults.add(...); sb.calls.records`;
`sb.hooks.before(action, callback)` changes the world right before an action runs (hooks.py).
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from sandbox.tencentcloud import schema
from sandbox.tencentcloud.auth import authenticate
from sandbox.tencentcloud.calllog import CallLog, CallRecord, redact
from sandbox.tencentcloud.exceptions import (
    InternalError,
    InvalidAction,
    InvalidParameter,
    RequestLimitExceeded,
    TencentCloudError,
)
from sandbox.tencentcloud.faults import Faults
from sandbox.tencentcloud.hooks import Hooks
from sandbox.tencentcloud.ratelimits import RateLimits
from sandbox.tencentcloud.world import Caller, World, default_world, load_world

log = logging.getLogger(__name__)

# service -> "module:Class" of its responses; imported on first use so a missing service does not stop others.
RESPONDERS = {
    "cam": "sandbox.tencentcloud.cam.responses:CamResponse",
    "sts": "sandbox.tencentcloud.sts.responses:StsResponse",
    "dts": "sandbox.tencentcloud.dts.responses:DtsResponse",
    "mongodb": "sandbox.tencentcloud.mongodb.responses:MongodbResponse",
    "redis": "sandbox.tencentcloud.redis.responses:RedisResponse",
    "ssm": "sandbox.tencentcloud.ssm.responses:SsmResponse",
}


def _responder_class(service: str) -> type:
    target = RESPONDERS.get(service)
    if target is None:
        raise InvalidAction(f"The service `{service}` is not served by this sandbox.")
    module, name = target.split(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InvalidAction(f"The service `{service}` is not available in this sandbox: {exc}") from None


class Outcome:
    """What the HTTP layer must do: answer `body`, or drop the connection."""

    def __init__(self, body: dict[str, Any] | None) -> None:
        self.body = body

    @property
    def dropped(self) -> bool:
        return self.body is None


class TencentCloudSandbox:
    """A running (or startable) sandbox over one world, with its faults and call log."""

    def __init__(self, world: World | None = None, faults: Faults | None = None, rate_limits: bool = False) -> None:
        """`rate_limits`: refuse calls beyond Tencent's published per-action rates (ratelimits.py)."""
        self.world = world or default_world()
        self.faults = faults or Faults()
        self.rate_limits = RateLimits() if rate_limits else None
        self.hooks = Hooks()
        self.calls = CallLog()
        self.output_drift: list[str] = []
        """Answers that departed from the API reference's output schema (`schema.output_problems`); tests
        assert it stays empty."""
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:`port` (0: any free port) in a background thread; return "127.0.0.1:PORT"."""
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="tc-sandbox", daemon=True)
        self._thread.start()
        return self.endpoint

    @property
    def endpoint(self) -> str:
        if self._httpd is None:
            raise RuntimeError("sandbox not started")
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        if self._httpd is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget recorded calls, injected faults and hooks."""
        self.calls.clear()
        self.faults.clear()
        self.hooks.clear()

    # one API request
    def handle(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Outcome:
        """Authenticate, check, run and record one API request."""
        request_id = str(uuid.uuid4())
        lower = {k.lower(): v for k, v in headers.items()}
        action, region = lower.get("x-tc-action", ""), lower.get("x-tc-region", "")
        service, caller, params = "", None, {}
        outcome, code = "ok", ""
        try:
            try:
                parsed = json.loads(body or b"{}")
            except ValueError:
                raise InvalidParameter("The request body is not valid JSON.") from None
            params = parsed if isinstance(parsed, dict) else {}
            with self.world.lock:
                caller, service = authenticate(self.world, method, path, query, headers, body)
            if method != "POST":
                raise InvalidParameter("This sandbox serves POST application/json requests only.")
            if not isinstance(parsed, dict):
                raise InvalidParameter("The request body must be a JSON object.")
            served = schema.version(service)
            if served is not None and lower.get("x-tc-version") != served:
                raise InvalidAction(f"The requested action `{action}` of version "
                                    f"`{lower.get('x-tc-version')}` does not exist.")
            schema.check(service, action, params)
            if self.rate_limits is not None and caller is not None:
                self.rate_limits.take(caller.owner_uin, region, service, action)
            fault = self.faults.pick(service, action)
            if fault and fault.kind == "RequestLimitExceeded":
                raise RequestLimitExceeded("Your request frequency has exceeded the limit. (sandbox fault)")
            if fault and fault.kind == "InternalError":
                raise InternalError("An internal error has occurred. Retry later. (sandbox fault)")
            if fault and fault.kind == "drop":
                outcome = "dropped"
                return Outcome(None)
            result = self._run(service, action, params, caller, region)
            if fault and fault.kind == "commit_then_drop":
                outcome = "committed-dropped"
                return Outcome(None)
            if fault and fault.kind == "slow":
                fault.held += 1
                time.sleep(fault.delay)
                fault.answered += 1
            return Outcome({"Response": {**result, "RequestId": request_id}})
        except TencentCloudError as exc:
            outcome, code = "error", exc.code
            return Outcome({"Response": {"Error": {"Code": exc.code, "Message": exc.message},
                                         "RequestId": request_id}})
        finally:
            self.calls.add(CallRecord(
                time=self.world.clock.now(), service=service, action=action, region=region,
                caller_uin=caller.uin if caller else "", params=redact(params), outcome=outcome,
                error_code=code, request_id=request_id,
            ))

    def _run(self, service: str, action: str, params: dict[str, Any], caller: Caller,
             region: str) -> dict[str, Any]:
        responder = _responder_class(service)(self.world, caller, region)
        method = getattr(responder, action, None)
        if method is None:
            raise InvalidAction(f"The requested action `{action}` is not implemented by this sandbox.")
        with self.world.lock:
            try:
                self.hooks.fire(service, action, params)
                result = method(params)
                self.output_drift += [f"{service}.{action}: {problem}"
                                      for problem in schema.output_problems(service, action, result)]
                return result
            except TencentCloudError:
                raise
            except Exception:
                log.exception("sandbox %s.%s crashed", service, action)
                raise InternalError("An internal error has occurred. Retry later.") from None

    # admin endpoint
    def admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one /_sandbox/* request: (HTTP status, JSON body)."""
        try:
            data = json.loads(body or b"{}")
            if method == "GET" and path == "/_sandbox/calls":
                return 200, {"calls": [r.to_dict() for r in self.calls.records]}
            if method == "GET" and path == "/_sandbox/faults":
                return 200, {"faults": [f.to_dict() for f in self.faults.active()]}
            if method == "POST" and path == "/_sandbox/faults":
                return 200, {"fault": self.faults.add(**data).to_dict()}
            if method == "DELETE" and path == "/_sandbox/faults":
                self.faults.clear()
                return 200, {"faults": []}
            if method == "POST" and path == "/_sandbox/clock":
                self.world.clock.advance(float(data.get("advance", 0)))
                return 200, {"now": self.world.clock.now()}
            if method == "POST" and path == "/_sandbox/reset":
                self.reset()
                return 200, {"reset": True}
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}
        return 404, {"error": f"no admin route {method} {path}"}


class _Handler(BaseHTTPRequestHandler):
    sandbox: TencentCloudSandbox

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/_sandbox/"):
            status, answer = self.sandbox.admin(self.command, url.path, body)
            self._send(status, answer)
            return
        outcome = self.sandbox.handle(self.command, url.path, url.query, dict(self.headers.items()), body)
        if outcome.dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(200, outcome.body or {})

    do_GET = do_POST = do_DELETE = _serve

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def serve(port: int, world_path: str | None = None, speed: float = 1.0) -> None:
    """Run the sandbox in the foreground until interrupted (the `dtsbot sandbox tencentcloud` command)."""
    world = load_world(world_path, speed) if world_path else default_world(speed)
    sandbox = TencentCloudSandbox(world, rate_limits=True)
    endpoint = sandbox.start(port)
    print(f"Tencent Cloud sandbox listening on http://{endpoint} (speed x{speed})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()

"""TC3-HMAC-SHA256 request authentication, as Tencent Cloud API 3.0 does it.

`authenticate` parses the Authorization header, rejects timestamps more than five minutes off real time,
finds the secret key of the SecretId (root, sub-account, or STS temporary credentials with X-TC-Token),
recomputes the signature over the request and returns who called and which service the scope names.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from sandbox.tencentcloud.exceptions import (
    InvalidAuthorization,
    SecretIdNotFound,
    SignatureExpire,
    SignatureFailure,
    TokenFailure,
)
from sandbox.tencentcloud.world import Caller, World

MAX_SKEW_SECONDS = 300
_AUTH = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)/tc3_request,"
    r"\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*Signature=(?P<sig>[0-9a-f]{64})"
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """The TC3 signature of `string_to_sign` (derived key: date, then service, then `tc3_request`)."""
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def string_to_sign(method: str, path: str, query: str, headers: Mapping[str, str], signed_headers: str,
                   body: bytes, timestamp: str, date: str, service: str) -> str:
    """TC3 string to sign for a request (headers looked up case-insensitively)."""
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{h}:{lower.get(h, '').strip()}\n" for h in signed_headers.split(";"))
    payload = b"UNSIGNED-PAYLOAD" if lower.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD" else body
    canonical = "\n".join([method, path, query, canonical_headers, signed_headers,
                           hashlib.sha256(payload).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    return "\n".join(["TC3-HMAC-SHA256", timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])


def authenticate(world: World, method: str, path: str, query: str, headers: Mapping[str, str],
                 body: bytes) -> tuple[Caller, str]:
    """Verify the request's TC3 signature; return (caller, service) or raise the AuthFailure error."""
    lower = {k.lower(): v for k, v in headers.items()}
    m = _AUTH.fullmatch(lower.get("authorization", "").strip())
    if m is None:
        raise InvalidAuthorization("Authorization in the request header is invalid.")
    timestamp = lower.get("x-tc-timestamp", "")
    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > MAX_SKEW_SECONDS:
        raise SignatureExpire("Signature expired. Timestamp and server time cannot differ by more than "
                              "five minutes. Please ensure your current local time matches the standard time.")
    if datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != m["date"]:
        raise SignatureFailure("The date in the credential scope does not match X-TC-Timestamp.")
    secret_id, token = m["id"], lower.get("x-tc-token", "")
    found = world.credential(secret_id)
    if found is not None:
        secret_key, caller = found
    elif secret_id in world.sessions:
        session = world.session(secret_id, token)
        if session is None:
            raise TokenFailure("Token error: the temporary credentials are invalid or have expired.")
        secret_key = session.tmp_secret_key
        caller = Caller(f"{session.role_id}:{session.session_name}", session.role_owner_uin, False, session)
    else:
        raise SecretIdNotFound("The SecretId is not found, please ensure that your SecretId is correct.")
    expected = tc3_signature(
        secret_key, m["date"], m["service"],
        string_to_sign(method, path, query, headers, m["headers"], body, timestamp, m["date"], m["service"]),
    )
    if not hmac.compare_digest(expected, m["sig"]):
        raise SignatureFailure("The provided credentials could not be validated. "
                               "Please check your signature is correct.")
    return caller, m["service"]

"""`ssm://<secret name>[#<key>]` values: read from Tencent Cloud Secrets Manager (SSM) with the SDK.

Which version: SSM's `GetSecretValue` needs a `VersionId`. A product secret (a TencentDB login that SSM rotates)
has `SSM_Current`; a secret of your own has the versions you put. So the bot lists the versions
(`ListSecretVersionIds`) and reads `SSM_Current` when listed, else the newest by `CreateTime`. A `#key` reads that
key of a JSON object secret. Who reads: `secrets_manager.credentials`, else the keys of `secrets_manager.account`,
else the SDK's default chain; where: `secrets_manager.region` (else `tencentcloud.region`) at
`tencentcloud.endpoint` (a sandbox, or the real API when unset).

A read is reused for `secrets_manager.cache_seconds`; `fresh=True` reads again at once (a use that failed: a
rotated password). Slack's tokens and the accounts' API keys given as `ssm://` are read once when the
configuration is loaded; database logins when they are used (core/logins.py). Values never reach a log, an
error or a repr: errors name the reference and SSM's error code.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ssm.v20190923.ssm_client import SsmClient

if TYPE_CHECKING:
    from core.config import Settings

CURRENT_VERSION = "SSM_Current"
"""The version SSM gives the value in use of a product secret it rotates (GetSecretValue's VersionId doc)."""


class SecretUnavailable(Exception):
    """An `ssm://` reference cannot be read now; the message names it and why (never a value). `cause`: Secrets
    Manager's own error, when it answered one (a transient one may be retried)."""

    def __init__(self, message: str, cause: TencentCloudSDKException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class SecretValue:
    """One reference's value, with the SSM version it came from (the version is not secret)."""

    value: str = field(repr=False)
    version: str


def client_profile(endpoint: str | None, timeout: float) -> ClientProfile:
    """The SDK profile for `tencentcloud.endpoint` (plain HTTP to a sandbox when set; the real API otherwise)."""
    http = (HttpProfile(endpoint=endpoint, protocol="http", reqTimeout=timeout) if endpoint
            else HttpProfile(reqTimeout=timeout))
    return ClientProfile(httpProfile=http)


def parse_reference(reference: str) -> tuple[str, str | None]:
    """(secret name, JSON key or None) of `ssm://name[#key]`."""
    name, _hash, key = reference.removeprefix("ssm://").partition("#")
    return name, key or None


def _object_keys(text: str) -> list[str] | None:
    """The keys of `text` when it is a JSON object, else None."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return [str(k) for k in parsed] if isinstance(parsed, dict) else None


def _newest(versions: list[dict[str, Any]]) -> str | None:
    ids = [str(v.get("VersionId")) for v in versions if v.get("VersionId")]
    if CURRENT_VERSION in ids:
        return CURRENT_VERSION
    ranked = sorted(enumerate(versions), key=lambda iv: (int(iv[1].get("CreateTime") or 0), iv[0]))
    return str(ranked[-1][1]["VersionId"]) if ranked else None


class SecretsManager:
    """Reads `ssm://` references, each secret cached for `secrets_manager.cache_seconds`."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings, self._clock = settings, clock
        self._ttl = settings.secrets_manager.cache_seconds
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, SecretValue]] = {}
        self._client: SsmClient | None = None

    def read(self, reference: str, fresh: bool = False, whole_json: bool = False) -> SecretValue:
        """The value of `ssm://name[#key]`; SecretUnavailable naming the reference and the reason. Without `#key`
        a JSON object is refused (one value is wanted, not the whole secret) unless `whole_json`: the caller reads
        the JSON itself (a `login:`)."""
        name, key = parse_reference(reference)
        whole = self._secret(reference, name, fresh)
        if key is None:
            keys = _object_keys(whole.value)
            if keys is not None and not whole_json:
                raise SecretUnavailable(f"{reference}: the secret is a JSON object; name the key to read, "
                                        f"{reference}#<key> (its keys: {', '.join(sorted(keys))})")
            return whole
        try:
            document = json.loads(whole.value)
        except ValueError:
            raise SecretUnavailable(f"{reference}: the secret is not JSON, so it has no key {key!r}") from None
        if not isinstance(document, dict) or key not in document:
            raise SecretUnavailable(f"{reference}: the secret's JSON has no key {key!r}")
        value = document[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or value == "":
            raise SecretUnavailable(f"{reference}: the key {key!r} is not a non-empty string")
        return SecretValue(str(value), whole.version)

    def forget(self, reference: str) -> None:
        """Drop the cached read of the secret behind `reference`: the next read asks SSM."""
        with self._lock:
            self._cache.pop(parse_reference(reference)[0], None)

    def _secret(self, reference: str, name: str, fresh: bool) -> SecretValue:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and not fresh and now - cached[0] < self._ttl:
            return cached[1]
        try:
            client = self._ssm()
            listed = client.call_json("ListSecretVersionIds", {"SecretName": name})["Response"]
            version = _newest(listed.get("Versions") or [])
            if version is None:
                raise SecretUnavailable(f"{reference}: the secret has no version")
            body = client.call_json("GetSecretValue", {"SecretName": name, "VersionId": version})["Response"]
        except TencentCloudSDKException as error:
            raise SecretUnavailable(f"{reference}: Secrets Manager answered {error.get_code()}: "
                                    f"{str(error.get_message()).splitlines()[0][:200]}", error) from None
        except (OSError, ValueError) as error:
            raise SecretUnavailable(f"{reference}: Secrets Manager could not be asked ({type(error).__name__})") \
                from None
        text = body.get("SecretString") or ""
        if not text and body.get("SecretBinary"):
            text = base64.b64decode(body["SecretBinary"]).decode("utf-8", errors="replace")
        if not text:
            raise SecretUnavailable(f"{reference}: the secret is empty")
        value = SecretValue(text, str(body.get("VersionId") or version))
        with self._lock:
            self._cache[name] = (now, value)
        return value

    def _ssm(self) -> SsmClient:
        if self._client is None:
            settings = self._settings
            region = settings.secrets_manager.region or settings.tencentcloud.region
            profile = client_profile(settings.tencentcloud.endpoint, settings.tencentcloud.timeout_seconds)
            self._client = SsmClient(self._credential(), region, profile)
        return self._client

    def _credential(self) -> Any:
        manager = self._settings.secrets_manager
        keys = manager.credentials
        if keys is None and manager.account is not None:
            keys = self._settings.account(manager.account).credentials
        if keys is not None:
            return credential.Credential(keys.secret_id.get_secret_value(), keys.secret_key.get_secret_value())
        try:
            return credential.DefaultCredentialProvider().get_credentials()
        except (TencentCloudSDKException, OSError):  # the chain's last provider (TKE's) raises OSError
            raise SecretUnavailable("secrets_manager: no credentials (set secrets_manager.credentials or .account, "
                                    "or run where the SDK's default chain finds keys)") from None


def _startup_paths(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Where app.yaml's secrets that are read once at load live: Slack's tokens and every account's keys."""
    paths: list[tuple[Any, ...]] = [("slack", key) for key in ("bot_token", "signing_secret", "app_token")]
    for index, _account in enumerate(data.get("accounts") or []):
        paths += [("accounts", index, keys, part) for keys in ("credentials", "executor_credentials")
                  for part in ("secret_id", "secret_key")]
    return paths


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _key(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


def startup_references(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The paths of Slack's tokens and the accounts' keys that are `ssm://` references."""
    return [p for p in _startup_paths(data) if isinstance(_at(data, p), str) and _at(data, p).startswith("ssm://")]


def read_startup_secrets(settings: Settings, data: dict[str, Any]) -> list[str]:
    """Replace, in `data`, each `ssm://` Slack token and account key with its value (read once, now); return
    `key.path: why` for each one that cannot be read."""
    manager, problems = SecretsManager(settings), []
    for path in startup_references(data):
        try:
            value = manager.read(_at(data, path)).value
        except SecretUnavailable as why:
            problems.append(f"{_key(path)}: {why}")
            continue
        parent = _at(data, path[:-1])
        parent[path[-1]] = value
    return problems

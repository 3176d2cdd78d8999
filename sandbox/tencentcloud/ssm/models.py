"""An account's secrets: each a list of versions (id, creation time, text), newest last; no HTTP here.

Secrets are per account, not per region (a guess: the sandbox has one region; see the README's guess table).
A world file gives them as `secrets: {name: text-or-mapping}` per account (a mapping is stored as its JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.tencentcloud.clock import Clock
from sandbox.tencentcloud.exceptions import TencentCloudError

if TYPE_CHECKING:
    from sandbox.tencentcloud.world import World

ERROR_CODES = {
    "ResourceNotFound.SecretNotExist": "GetSecretValue / ListSecretVersionIds / PutSecretValue of no such secret",
    "ResourceNotFound": "GetSecretValue of a version the secret does not have",
    "ResourceInUse.SecretExists": "CreateSecret of a name in use",
    "ResourceInUse.VersionIdExists": "PutSecretValue of a version id in use",
    "LimitExceeded": "PutSecretValue past the 10 versions a secret may have",
}
"""Every SSM error code the sandbox answers, and when (each one is in the SDK's errorcodes.py: a drift test)."""
INITIAL_VERSION = "v1"
MAX_VERSIONS = 10
"""PutSecretValue: "一个凭据下最多可以支持10个版本"."""


@dataclass
class Version:
    version_id: str
    created: int
    text: str


@dataclass
class Secret:
    name: str
    versions: list[Version] = field(default_factory=list)


def as_text(value: Any) -> str:
    """A world file's secret value: a string as it is, a mapping as JSON (the shape the bot reads with #key)."""
    return value if isinstance(value, str) else json.dumps(value)


class SsmBackend:
    """The secrets of one account."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.secrets: dict[str, Secret] = {}

    def secret(self, name: str) -> Secret:
        found = self.secrets.get(name)
        if found is None:
            raise TencentCloudError("ResourceNotFound.SecretNotExist", f"secret {name} does not exist")
        return found

    def create(self, name: str, text: str, version_id: str = INITIAL_VERSION) -> Version:
        if name in self.secrets:
            raise TencentCloudError("ResourceInUse.SecretExists", f"secret {name} already exists")
        self.secrets[name] = Secret(name)
        return self.put(name, text, version_id)

    def put(self, name: str, text: str, version_id: str) -> Version:
        """A new version of `name` (PutSecretValue): rotation of a secret of one's own."""
        secret = self.secret(name)
        if any(v.version_id == version_id for v in secret.versions):
            raise TencentCloudError("ResourceInUse.VersionIdExists", f"version {version_id} of {name} exists")
        if len(secret.versions) >= MAX_VERSIONS:
            raise TencentCloudError("LimitExceeded", f"secret {name} has {MAX_VERSIONS} versions")
        version = Version(version_id, int(self.clock.now()), text)
        secret.versions.append(version)
        return version

    def rotate(self, name: str, value: Any) -> Version:
        """A test's rotation: a new version named after the count (v2, v3, ...)."""
        return self.put(name, as_text(value), f"v{len(self.secret(name).versions) + 1}")

    def value(self, name: str, version_id: str) -> Version:
        for version in self.secret(name).versions:
            if version.version_id == version_id:
                return version
        raise TencentCloudError("ResourceNotFound", f"version {version_id} of secret {name} does not exist")


def ssm_backend(world: World, uin: str) -> SsmBackend:
    """The secrets of account `uin` (made on first use)."""
    world.account(uin)
    backend: SsmBackend = world.services.setdefault(f"ssm:{uin}", SsmBackend(world.clock))
    return backend

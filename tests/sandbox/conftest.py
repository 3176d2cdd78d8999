"""Fixtures for the Tencent Cloud sandbox: a started server on the default world and real SDK clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tencentcloud.common.credential import Credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.dts.v20211206 import dts_client

from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import World, default_world

REGION = "ap-guangzhou"
# who -> (secret id, secret key) of the default world (common constants)
KEYS = {
    "source": ("AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001"),
    "source-sub": ("AKIDSANDBOXSOURCESUB0000000000011", "sandbox-source-sub-secret-key-0011"),
    "target": ("AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002"),
    "target-sub": ("AKIDSANDBOXTARGETSUB0000000000021", "sandbox-target-sub-secret-key-0021"),
    "finance": ("AKIDSANDBOXFINANCE000000000000003", "sandbox-finance-secret-key-0003"),
}


@pytest.fixture
def world() -> World:
    """A fresh default world (a test module overrides it, e.g. with a clock that stands still)."""
    return default_world()


@pytest.fixture
def tc_sandbox(world: World) -> Iterator[TencentCloudSandbox]:
    """A sandbox serving `world` on 127.0.0.1:<ephemeral port>; its answers must fit the API reference."""
    with TencentCloudSandbox(world) as sandbox:
        yield sandbox
    assert not sandbox.output_drift, "sandbox answers outside the API reference's output schema"


@pytest.fixture
def dts(tc_client: Callable[..., Any]) -> Callable[..., dts_client.DtsClient]:
    """Factory: dts() or dts("source") -> a real DtsClient with that account's keys."""
    return lambda who="target": tc_client(dts_client.DtsClient, who)


@pytest.fixture
def tc_client(tc_sandbox: TencentCloudSandbox) -> Callable[..., Any]:
    """Factory: tc_client(CamClient, "target") or tc_client(StsClient, (id, key), token=...) -> real SDK client."""

    def make(client_cls: type, who: str | tuple[str, str] = "target", token: str | None = None,
             region: str = REGION, timeout: int = 10) -> Any:
        secret_id, secret_key = KEYS[who] if isinstance(who, str) else who
        http = HttpProfile(endpoint=tc_sandbox.endpoint, protocol="http", reqTimeout=timeout)
        return client_cls(Credential(secret_id, secret_key, token), region, ClientProfile(httpProfile=http))

    return make

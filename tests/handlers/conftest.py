"""Fixtures for the cloud steps: a fast sandbox on the default world, the shipped app.yaml pointed at it, real
CloudClients recording every call, and a request like the ones the bot stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from stepflow import EXTERNAL_ID, SOURCE_UIN, SPEED, TARGET_UIN

from core.cloud import CloudCall, CloudClients
from core.config import Settings, load_settings
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.models import MigrationRequest

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"


@pytest.fixture
def sandbox() -> Iterator[TencentCloudSandbox]:
    with TencentCloudSandbox(default_world(SPEED)) as sb:
        yield sb
    assert not sb.output_drift, "sandbox answers outside the API reference's output schema"


@pytest.fixture
def settings(sandbox: TencentCloudSandbox) -> Settings:
    return load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})


@pytest.fixture
def calls() -> list[CloudCall]:
    return []


@pytest.fixture
def clients(settings: Settings, calls: list[CloudCall]) -> CloudClients:
    return CloudClients(settings, calls.append, backoff_base=0.01, timeout=5)


@pytest.fixture
def make_request() -> Callable[..., MigrationRequest]:
    def make(**fields: object) -> MigrationRequest:
        values: dict[str, object] = {
            "id": "r0001", "requester": "U0REQUESTER",
            "source_account": "shop-prod", "source_uin": SOURCE_UIN, "source_region": "ap-guangzhou",
            "source_instance": "cdb-src00001",
            "target_account": "analytics", "target_uin": TARGET_UIN, "target_region": "ap-guangzhou",
            "target_instance": "cdb-dst00001",
            "db_type": "mysql", "role_name": "DTS-role", "external_id": EXTERNAL_ID, "executor": "root",
            "migrate_type": "fullAndIncrement", "objects": "all", "state": "approved", "facts": {},
        }
        values.update(fields)
        return MigrationRequest(**values)

    return make


@pytest.fixture
def request_(make_request: Callable[..., MigrationRequest]) -> MigrationRequest:
    return make_request()


@pytest.fixture
def slow() -> Iterator[tuple[TencentCloudSandbox, CloudClients]]:
    """A sandbox whose clock all but stands still (1 ms per real second) unless the test advances it.

    The client's own rate limits make real time pass between calls; a frozen clock keeps the DTS timeline where
    the test puts it."""
    with TencentCloudSandbox(default_world(0.001)) as sb:
        settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sb.endpoint})
        yield sb, CloudClients(settings, backoff_base=0.01, timeout=5)
    assert not sb.output_drift, "sandbox answers outside the API reference's output schema"

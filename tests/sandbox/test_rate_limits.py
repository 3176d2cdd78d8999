"""Tencent's published per-action rate limits in the sandbox (opt-in), and the bot staying within them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import RATE_LIMITS, CloudClients
from core.config import load_settings
from core.policies import document, trust_policy
from core.ratelimit import RateLimiter
from sandbox.tencentcloud.exceptions import RequestLimitExceeded
from sandbox.tencentcloud.ratelimits import PUBLISHED, RateLimits
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
TRUST = document(trust_policy("100000000002", None))


def test_an_account_gets_the_published_calls_per_second_per_action() -> None:
    now = [100.0]
    limits = RateLimits(clock=lambda: now[0])
    for _ in range(2):
        limits.take("100000000001", "ap-guangzhou", "cam", "CreateRole")
    with pytest.raises(RequestLimitExceeded):
        limits.take("100000000001", "ap-guangzhou", "cam", "CreateRole")
    limits.take("100000000002", "ap-guangzhou", "cam", "CreateRole")  # another account has its own
    limits.take("100000000001", "ap-guangzhou", "cam", "GetRole")  # an action whose page was not checked
    now[0] += 0.5
    limits.take("100000000001", "ap-guangzhou", "cam", "CreateRole")  # refilled at the published pace
    with pytest.raises(RequestLimitExceeded):
        limits.take("100000000001", "ap-guangzhou", "cam", "CreateRole")


def test_the_sandbox_answers_request_limit_exceeded_beyond_the_limit() -> None:
    with TencentCloudSandbox(default_world(), rate_limits=True) as sandbox:
        sandbox.rate_limits = RateLimits(clock=lambda: 0.0)  # every call in the same instant
        settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
        cam = CloudClients(settings, rates={}, max_attempts=1).cam("shop-prod")
        for name in ("a", "b"):
            cam.call("CreateRole", {"RoleName": name, "PolicyDocument": TRUST})
        with pytest.raises(TencentCloudSDKException) as refused:
            cam.call("CreateRole", {"RoleName": "c", "PolicyDocument": TRUST})
        assert refused.value.get_code() == "RequestLimitExceeded"


def test_the_bot_paces_its_calls_within_the_published_limits() -> None:
    with TencentCloudSandbox(default_world(), rate_limits=True) as sandbox:
        settings = load_settings(APP_YAML, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
        cam = CloudClients(settings).cam("shop-prod")
        for n in range(5):
            cam.call("CreateRole", {"RoleName": f"role-{n}", "PolicyDocument": TRUST})
        assert [r.outcome for r in sandbox.calls.of("CreateRole")] == ["ok"] * 5


BOT_CALLS = {("cam", "CreateRole"), ("cam", "AttachRolePolicy"), ("cam", "CreatePolicy"),
             ("cam", "AttachUserPolicy"), ("sts", "AssumeRole"), ("sts", "GetCallerIdentity"), ("dts", "*")}
"""The published actions the bot calls (it never lists roles: DescribeRoleList)."""


@pytest.mark.parametrize(("service", "action"), sorted(PUBLISHED))
def test_the_bots_rates_are_within_the_published_ones(service: str, action: str) -> None:
    rate = RateLimiter(RATE_LIMITS).rate(service, action if action != "*" else "DescribeMigrationDetail")
    if (service, action) in BOT_CALLS:
        assert rate is not None and rate <= PUBLISHED[(service, action)], json.dumps([service, action, rate])
    else:
        assert rate is None

"""CloudClients against the sandbox: records per attempt, safe retries, role session cache, rate limits."""

from __future__ import annotations

import pytest
from stepflow import run_flow
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.ratelimit import TokenBucket
from handlers import authorize_source
from handlers.step import role_session


def test_rate_limited_purchase_is_retried_once_refused(sandbox, clients, calls, request_):
    sandbox.faults.add("CreateMigrationService", "RequestLimitExceeded", count=1)
    run_flow(request_, clients, until="configuring")
    attempts = [(c.outcome, c.error_code) for c in calls if c.action == "CreateMigrationService"]
    assert attempts == [("error", "RequestLimitExceeded"), ("ok", None)]
    assert request_.job_id


def test_transient_error_propagates_and_the_rerun_finishes(sandbox, clients, request_):
    sandbox.faults.add("GetRole", "InternalError", count=1)
    with pytest.raises(TencentCloudSDKException) as raised:
        authorize_source(request_, clients)
    assert raised.value.get_code() == "InternalError"
    assert authorize_source(request_, clients).notice.startswith("Role `DTS-role` created")


def test_role_session_is_cached_while_it_lasts(slow, make_request):
    sandbox, clients = slow
    request = make_request()
    run_flow(request, clients, until="preflight")
    first = role_session(request, clients)
    assert role_session(request, clients) is first
    assert len(sandbox.calls.of("AssumeRole")) == 1
    assert "secrets hidden" in repr(first) and first.tmp_secret_key not in repr(first)


def test_role_session_is_renewed_when_less_than_five_minutes_are_left(clients, sandbox, request_):
    # at sandbox speed 500 a 2-hour session lasts ~14 real seconds: always inside the renewal margin
    run_flow(request_, clients, until="preflight")
    role_session(request_, clients)
    role_session(request_, clients)
    assert len(sandbox.calls.of("AssumeRole")) == 2


def test_token_bucket_spaces_calls_beyond_the_burst():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    bucket = TokenBucket(2.0, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    now[0] = 10.0
    assert bucket.acquire() == 0.0
    assert slept == [0.5, 1.0]

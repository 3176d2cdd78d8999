"""CloudClients against the sandbox: records per attempt, safe retries, role session cache, rate limits."""

from __future__ import annotations

import pytest
from stepflow import run_flow
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import CloudClients
from core.ratelimit import RateLimiter, TokenBucket
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


def test_a_dropped_answer_then_a_success_returns_the_success_after_one_backoff(sandbox, settings, calls):
    # the SDK's own loop (3.1.x) would call a third time and raise the stale network error
    slept: list[float] = []
    clients = CloudClients(settings, calls.append, backoff_base=0.5, timeout=5, sleep=slept.append)
    sandbox.faults.add("DescribeMigrationJobs", "drop", count=1)
    body = clients.dts("analytics", "ap-guangzhou").call("DescribeMigrationJobs", {"Limit": 10})
    assert body["TotalCount"] == 0 and len(sandbox.calls.of("DescribeMigrationJobs")) == 2
    assert [(c.outcome, c.error_code) for c in calls] == [("error", "ClientNetworkError"), ("ok", None)]
    assert len(slept) == 1 and 0.0 <= slept[0] <= 0.5  # full jitter below the first step of the backoff


def test_a_purchase_is_not_repeated_after_a_dropped_answer(sandbox, settings, calls):
    slept: list[float] = []
    clients = CloudClients(settings, calls.append, timeout=5, sleep=slept.append)
    sandbox.faults.add("CreateRole", "drop", count=1)
    with pytest.raises(TencentCloudSDKException) as lost:
        clients.cam("shop-prod").call("CreateRole", {"RoleName": "x", "PolicyDocument": "{}"})
    assert lost.value.get_code() == "ClientNetworkError" and slept == [] and len(calls) == 1


def test_rate_limits_are_one_bucket_per_account_region_and_action():
    now = [0.0]
    slept: list[float] = []
    limiter = RateLimiter({("dts", "*"): 20.0, ("dts", "DescribeMigrationJobs"): 2.0}, clock=lambda: now[0],
                          sleep=slept.append)
    waits = [limiter.acquire("analytics", "ap-guangzhou", "dts", "DescribeMigrationJobs") for _ in range(3)]
    assert waits == [0.0, 0.5, 1.0]  # 2/s, spaced: never more than two in a second
    assert limiter.acquire("analytics", "ap-shanghai", "dts", "DescribeMigrationJobs") == 0.0  # other region
    assert limiter.acquire("shop-prod", "ap-guangzhou", "dts", "DescribeMigrationJobs") == 0.0  # other account
    assert limiter.acquire("analytics", "ap-guangzhou", "dts", "StartMigrateJob") == 0.0  # other action, 20/s
    assert limiter.rate("dts", "StartMigrateJob") == 20.0 and limiter.rate("cam", "GetRole") is None
    assert limiter.acquire("analytics", "ap-guangzhou", "cam", "GetRole") == 0.0  # not limited
    assert slept == [0.5, 1.0]

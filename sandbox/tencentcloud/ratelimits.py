"""Per-action request rate limits, as Tencent publishes them on each API's page ("默认接口请求频率限制").

A call beyond an action's limit within one second (per root account and region, a sub-account counted with its
root) is refused with `RequestLimitExceeded`, as the service refuses it. Opt-in (`TencentCloudSandbox(rate_limits=True)`,
and `dtsbot sandbox tencentcloud`): tests that fire calls without the bot's client-side limiter leave it off.
Counted in real seconds, whatever the sandbox clock's speed: the bot's limiter paces in real time too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from sandbox.tencentcloud.exceptions import RequestLimitExceeded

PUBLISHED: dict[tuple[str, str], float] = {
    ("cam", "CreateRole"): 2,  # https://cloud.tencent.com/document/api/598/36225
    ("cam", "AttachRolePolicy"): 3,  # https://www.tencentcloud.com/document/product/598/33562
    ("cam", "CreatePolicy"): 10,  # https://cloud.tencent.com/document/product/598/34578
    ("cam", "AttachUserPolicy"): 10,  # https://intl.cloud.tencent.com/document/product/598/32249
    ("cam", "DescribeRoleList"): 10,  # https://intl.cloud.tencent.com/document/api/598/33559
    ("sts", "AssumeRole"): 600,  # https://tencentcloud.com/document/api/1150/49443 (STS API category)
    ("sts", "GetCallerIdentity"): 20,  # same page
    ("dts", "*"): 20,  # each DTS v20211206 action page: 20/s
}
"""Calls per second per action and root account; ("dts", "*"): every DTS action. Actions not listed are not
limited here (their pages were not checked; README's guess table)."""


class RateLimits:
    """At most `limits[(service, action)]` calls of an action per account and region per second: a bucket of that
    many calls, refilled at that rate (a burst of a second's worth, then the published pace)."""

    def __init__(self, limits: Mapping[tuple[str, str], float] = PUBLISHED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._buckets: dict[tuple[str, str, str, str], tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def limit(self, service: str, action: str) -> float | None:
        """The published calls per second of the action, or None when none is enforced."""
        return self.limits.get((service, action), self.limits.get((service, "*")))

    def take(self, account: str, region: str, service: str, action: str) -> None:
        """Count one call, or raise RequestLimitExceeded when the account used up the action's second."""
        limit = self.limit(service, action)
        if limit is None:
            return
        now = self._clock()
        key = (account, region, service, action)
        with self._lock:
            tokens, at = self._buckets.get(key, (limit, now))
            tokens = min(limit, tokens + (now - at) * limit)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RequestLimitExceeded(f"{service}:{action} allows {limit:g} requests per second for this "
                                           "account; the request frequency has exceeded the limit.")
            self._buckets[key] = (tokens - 1.0, now)

"""Tencent Cloud clients per configured account: CAM, STS, DTS (and MongoDB's and Redis' instance reads) through
the real SDK, with retries that are
safe, client-side rate limits, an audit record for every call, and cached role sessions.

Retries: every call repeats under the house policy (`core.retry.Backoff`, exponential with full jitter), applied
here around each single attempt rather than through `ClientProfile(retryer=...)`, so that every attempt yields
its own `CloudCall` record. Which errors repeat is the SDK's public rule (`StandardRetryer.should_retry`):
network errors (`ClientNetworkError`, which may hide a success: the server applied the action, the answer was
lost) and `RequestLimitExceeded` (refused, nothing applied). The SDK's own loop is not used: in
tencentcloud-sdk-python-common 3.1.x it keeps the previous attempt's error after a success, so a network error
followed by a success calls again until `max_attempts` and then raises the stale error. Actions that must not
run twice (`NOT_REPEATABLE`: purchases, creations, starts, deletions) repeat only on `RequestLimitExceeded`;
after a network error the step that called them reads the cloud again ("look up, then act only if absent")
when it is run again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tencentcloud.cam.v20190116.cam_client import CamClient
from tencentcloud.common import credential
from tencentcloud.common.abstract_client import AbstractClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.retry import StandardRetryer
from tencentcloud.dts.v20211206.dts_client import DtsClient
from tencentcloud.mongodb.v20190725.mongodb_client import MongodbClient
from tencentcloud.redis.v20180412.redis_client import RedisClient
from tencentcloud.sts.v20180813.sts_client import StsClient

from core.config import AccountSettings, Credentials, Settings
from core.logins import DatabaseLogins
from core.policies import role_arn
from core.ratelimit import RateLimiter
from core.retry import Backoff
from core.secrets import client_profile

SDK_CLIENTS: dict[str, type[AbstractClient]] = {"cam": CamClient, "sts": StsClient, "dts": DtsClient,
                                                "mongodb": MongodbClient, "redis": RedisClient}
"""The SDK's service clients; calls go through their `call_json` (the SDK's own signed request path)."""

NOT_REPEATABLE = frozenset({
    "CreateRole", "DeleteRole", "CreatePolicy", "DeletePolicy",
    "CreateMigrationService", "CreateMigrateCheckJob", "StartMigrateJob", "CompleteMigrateJob", "StopMigrateJob",
    "IsolateMigrateJob", "RecoverMigrateJob", "DestroyMigrateJob",
    "PauseMigrateJob", "ContinueMigrateJob",
})
"""Writes whose repetition after a lost answer would buy twice or fail on the first attempt's effect."""

RATE_LIMITS: dict[tuple[str, str], float] = {
    ("cam", "CreateRole"): 2.0,
    ("cam", "AttachRolePolicy"): 3.0,
    ("cam", "CreatePolicy"): 10.0,
    ("cam", "AttachUserPolicy"): 10.0,
    ("sts", "GetCallerIdentity"): 20.0,
    ("sts", "AssumeRole"): 600.0,
    ("dts", "*"): 20.0,
    ("dts", "DescribeMigrationJobs"): 2.0,
    ("dts", "DescribeMigrationDetail"): 2.0,
    ("dts", "DescribeMigrationCheckJob"): 2.0,
}
"""Calls per second per action, account and region: Tencent's published rates (CAM's per action, STS's, DTS's 20/s
per action; the pages are cited in sandbox/tencentcloud/ratelimits.py), and for DTS's status reads a tenth of
that, leaving room for people and other tools."""

SESSION_SECONDS = 7200
SESSION_REFRESH_MARGIN = 300.0
"""A cached role session is renewed when less than this many seconds of it are left."""


class CloudConfigError(Exception):
    """The configuration cannot serve this call; the message names the app.yaml key to fix."""


@dataclass(frozen=True)
class CloudCall:
    """One API attempt as the audit log and metrics see it: never parameters, never secrets."""

    account: str
    service: str
    action: str
    request_id: str | None
    outcome: str  # "ok" or "error"
    error_code: str | None
    duration: float
    resource: str = ""
    """What the call acted on, as its parameters name it (`resource_of`): a role, a policy, a DTS task."""


RESOURCE_PARAMS = ("JobId", "RoleName", "PolicyName", "PolicyId", "AttachRoleName", "AttachUin", "DetachRoleName",
                   "DetachUin", "RoleArn", "SecretName")
"""Parameters that name the resource a call acts on, in the order the audit shows them."""


def resource_of(params: Mapping[str, Any]) -> str:
    """`Name=value` of each resource-naming parameter the call carries (never a secret: names and ids only)."""
    return " ".join(f"{key}={params[key]}" for key in RESOURCE_PARAMS if params.get(key) not in (None, ""))[:256]


@dataclass(frozen=True)
class RoleSession:
    """Temporary credentials of the source account's role, as STS AssumeRole issued them."""

    tmp_secret_id: str
    tmp_secret_key: str
    token: str
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:
        return f"RoleSession(expires_at={self.expires_at:.0f}, secrets hidden)"

    def params(self) -> dict[str, str]:
        """The DTS parameters that carry these credentials (TmpSecretId, TmpSecretKey, TmpToken)."""
        return {"TmpSecretId": self.tmp_secret_id, "TmpSecretKey": self.tmp_secret_key, "TmpToken": self.token}


def may_repeat(error: Exception) -> bool:
    """Whether a call that failed this way may simply run again: the SDK's rule (network errors, rate limits)."""
    return StandardRetryer.should_retry(None, error)


def was_refused(error: Exception) -> bool:
    """Whether the cloud refused the call before doing anything (`RequestLimitExceeded*`)."""
    return isinstance(error, TencentCloudSDKException) and str(error.get_code()).startswith("RequestLimitExceeded")


class Api:
    """One service as one identity of one account: `call(action, params)` returns the `Response` body."""

    def __init__(self, client: AbstractClient, account: str, service: str, region: str, owner: CloudClients) -> None:
        self._client, self.account, self.service, self.region, self._owner = client, account, service, region, owner

    def call(self, action: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run `action`, retrying only as its repeatability allows; raise TencentCloudSDKException on error."""
        retry_if = was_refused if action in NOT_REPEATABLE else may_repeat
        return self._owner.retry.run(lambda: self._attempt(action, params or {}), retry_if, sleep=self._owner.sleep)

    def _attempt(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        self._owner.throttle(self.account, self.region, self.service, action)
        started = time.monotonic()
        try:
            body = self._client.call_json(action, params)["Response"]
        except TencentCloudSDKException as exc:
            self._owner.record(CloudCall(self.account, self.service, action, exc.get_request_id() or None,
                                         "error", exc.get_code(), time.monotonic() - started, resource_of(params)))
            raise
        self._owner.record(CloudCall(self.account, self.service, action, body.get("RequestId"), "ok", None,
                                     time.monotonic() - started, resource_of(params)))
        return body


class CloudClients:
    """SDK clients per configured account (by name) and identity (root, or the executor sub-account)."""

    def __init__(self, settings: Settings, on_call: Callable[[CloudCall], None] | None = None, *,
                 backoff_base: float = 0.5, backoff_cap: float = 8.0, max_attempts: int = 3,
                 timeout: float | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 rates: Mapping[tuple[str, str], float] = RATE_LIMITS,
                 logins: DatabaseLogins | None = None) -> None:
        """`clock`: epoch seconds now; a test passes its own to age sessions and waits without sleeping.
        `sleep` waits between the attempts of one call (a test passes its own). `rates`: calls per second per
        (service, action), as `RATE_LIMITS`. `logins`: the database logins DTS is given (one per replica)."""
        self.settings = settings
        self.logins = logins or DatabaseLogins(settings)
        self.clock, self.sleep = clock, sleep
        self._on_call = on_call
        self.retry = Backoff(backoff_base, max(backoff_base, backoff_cap), max(1, max_attempts), jitter=1.0)
        """Attempts of one call: up to `max_attempts`, after each failure up to `backoff_base * 2**n` s."""
        self._timeout = settings.tencentcloud.timeout_seconds if timeout is None else timeout
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, str, str], Api] = {}
        self._credentials: dict[tuple[str, str], Any] = {}
        self.limiter = RateLimiter(rates)
        self._sessions: dict[tuple[str, str, str, str, str], RoleSession] = {}

    # -- clients -------------------------------------------------------------------------------------
    def cam(self, account: str) -> Api:
        """CAM as the account's root (CAM is global; the configured region signs the request).

        Never for a guided account: its owner makes the CAM changes, the bot only gives the steps."""
        if self._account(account).access == "guided":
            raise CloudConfigError(f"accounts[{account}].access is guided: the bot makes no CAM calls there")
        return self._api(account, "root", "cam", self.settings.tencentcloud.region)

    def sts(self, account: str, executor: str = "root") -> Api:
        """STS as the account's root, or as its executor sub-account."""
        return self._api(account, executor, "sts", self.settings.tencentcloud.region)

    def dts(self, account: str, region: str, executor: str = "root") -> Api:
        """DTS in `region` as the account's root, or as its executor sub-account."""
        return self._api(account, executor, "dts", region)

    def reader(self, account: str, service: str, region: str) -> Api:
        """`service` (e.g. mongodb, redis) in `region` as the account's root: reads of its own instances."""
        return self._api(account, "root", service, region)

    def as_role(self, session: RoleSession, account: str, service: str, region: str) -> Api:
        """`service` in `region` as the source role, signed with its temporary credentials (never cached: they
        expire); `account` (the source account's name) labels the calls and shares its rate limits."""
        cred = credential.Credential(session.tmp_secret_id, session.tmp_secret_key, session.token)
        return Api(SDK_CLIENTS[service](cred, region, self._profile()), f"{account}/role", service, region, self)

    def _api(self, account: str, executor: str, service: str, region: str) -> Api:
        key = (account, executor, service, region)
        with self._lock:
            api = self._clients.get(key)
            if api is None:
                cred = self._credential(account, executor)
                label = account if executor == "root" else f"{account}/{executor}"
                api = Api(SDK_CLIENTS[service](cred, region, self._profile()), label, service, region, self)
                self._clients[key] = api
            return api

    def _profile(self) -> ClientProfile:
        return client_profile(self.settings.tencentcloud.endpoint, self._timeout)

    def _credential(self, account: str, executor: str) -> Any:
        key = (account, executor)
        if key not in self._credentials:
            self._credentials[key] = _credential_for(self._account(account), executor)
        return self._credentials[key]

    def _account(self, name: str) -> AccountSettings:
        try:
            return self.settings.account(name)
        except KeyError:
            raise CloudConfigError(f"accounts: no account named {name!r} in app.yaml") from None

    # -- retries, limits, records --------------------------------------------------------------------
    def throttle(self, account: str, region: str, service: str, action: str) -> None:
        """Wait for the account's token for this action in this region, when a rate applies."""
        owner = account.split("/", 1)[0]  # a sub-account shares its root account's rate
        self.limiter.acquire(owner, region, service, action)

    def record(self, call: CloudCall) -> None:
        """Hand one call's record to the audit log / metrics callback."""
        if self._on_call is not None:
            self._on_call(call)

    # -- role sessions -------------------------------------------------------------------------------
    def role_session(self, target_account: str, executor: str, source_uin: str, role_name: str,
                     external_id: str | None, session_name: str, renew: bool = False) -> RoleSession:
        """Temporary credentials of the source role, assumed by the target root or its executor sub-account.

        Calls STS AssumeRole directly (the SDK's STSAssumeRoleCredential cannot send an ExternalId); cached
        per (caller, role ARN, external ID, session name) and renewed when less than 5 minutes are left, or
        when `renew` (credentials handed to DTS earlier have reached the end of their life).
        """
        arn = role_arn(source_uin, role_name)
        key = (target_account, executor, arn, external_id or "", session_name)
        with self._lock:
            cached = self._sessions.get(key)
        if not renew and cached is not None and cached.expires_at - self.clock() > SESSION_REFRESH_MARGIN:
            return cached
        params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": session_name,
                                  "DurationSeconds": SESSION_SECONDS}
        if external_id:
            params["ExternalId"] = external_id
        body = self.sts(target_account, executor).call("AssumeRole", params)
        creds = body["Credentials"]
        session = RoleSession(creds["TmpSecretId"], creds["TmpSecretKey"], creds["Token"],
                              float(body.get("ExpiredTime") or self.clock() + SESSION_SECONDS))
        with self._lock:
            self._sessions[key] = session
        return session


def _credential_for(account: AccountSettings, executor: str) -> Any:
    """Explicit keys when configured, else the SDK's default provider chain (env, profile, CVM role)."""
    if executor == "root":
        if account.credentials is None and account.access == "guided":
            raise CloudConfigError(f"accounts[{account.name}] is guided and holds no keys: the bot never calls "
                                   "the cloud as this account")
        return _explicit(account.credentials) if account.credentials else _default_chain(account.name)
    if executor != account.executor_uin:
        raise CloudConfigError(
            f"accounts[{account.name}].executor_uin: the request's executor {executor} is not this account's "
            f"configured executor ({account.executor_uin or 'none'})")
    if account.executor_credentials is None:
        raise CloudConfigError(f"accounts[{account.name}].executor_credentials: keys of sub-account {executor} "
                               "are needed to run the task as that sub-account")
    return _explicit(account.executor_credentials)


def _explicit(keys: Credentials) -> credential.Credential:
    return credential.Credential(keys.secret_id.get_secret_value(), keys.secret_key.get_secret_value())


def _default_chain(account: str) -> Any:
    try:
        return credential.DefaultCredentialProvider().get_credentials()
    except TencentCloudSDKException:
        raise CloudConfigError(f"accounts[{account}].credentials: not set, and the default provider chain "
                               "(environment, profile, CVM role) found no credentials") from None

"""Settings from app.yaml: `${ENV_VAR}` substitution, then pydantic validation into typed settings.

The keys are a public contract (docs/setup.md, docs/configuration.md). Every problem is reported as
`key.path: what is wrong`, all of them at once, never as a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from core import db_kinds, i18n
from core.references import resolve_references
from core.secrets import read_startup_secrets, startup_references
from core.validation import REGIONS
from core.yamlfile import DuplicateKeys, YamlError, load_yaml

SSM_REF = re.compile(r"ssm://(?P<name>[A-Za-z0-9{][A-Za-z0-9_{}-]{0,127})(?:#(?P<key>[^#\s]+))?")
"""A Tencent Cloud Secrets Manager reference: `ssm://<secret name>[#<key of a JSON secret>]`."""
INSTANCE_PLACEHOLDER = "{instance}"
ANY_INSTANCE = "*"
"""The `databases` entry for every instance not listed by ID (its references may contain `{instance}`)."""
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists each one as `key.path: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def _known_region(value: str | None) -> str | None:
    """A region the request fields also accept (core.validation.REGIONS), with the closest one suggested."""
    if value is not None and value not in REGIONS:
        close = difflib.get_close_matches(value, REGIONS, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(REGIONS)}"
        raise ValueError(f"{value!r} is not a known region; {hint}")
    return value


def _token_text(value: SecretStr | None) -> SecretStr | None:
    """A token, signing secret or API key is printable ASCII without spaces: anything else (a newline from the
    variable or file it came from) would fail every use of it, silently or with a traceback."""
    if value is not None and not re.fullmatch(r"[!-~]*", value.get_secret_value()):
        raise ValueError("contains whitespace or a non-ASCII character (a newline or byte-order mark from the "
                         "variable or file it came from?); remove it")
    return value


class _Strict(BaseModel):
    # Attribute docstrings become the fields' descriptions: docs/configuration.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        """`${VAR:-}` yields ""; for an optional key that means "not set", not an empty value."""
        if isinstance(data, dict):
            optional = {name for name, f in cls.model_fields.items() if f.default is None}
            data = {k: v for k, v in data.items() if not (v == "" and k in optional)}
        return data


class SlackSettings(_Strict):
    bot_token: SecretStr
    """The bot's OAuth token (xoxb-…), from the Slack app's OAuth & Permissions page."""
    signing_secret: SecretStr
    """Checks that a request comes from Slack (Basic Information → App Credentials)."""
    app_token: SecretStr | None = None
    """An app-level token (xapp-…, scope connections:write): set, the bot uses Socket Mode instead of HTTP."""
    channel: str
    """The channel ID (C…/G…) where requests are opened, posted and followed."""
    api_url: str | None = None
    """Slack's Web API base URL; unset: https://slack.com/api/ (set for the sandbox or a test double)."""
    port: int = Field(default=3000, ge=0, le=65535)
    """HTTP mode: the port of `POST /slack/events` (and of /healthz, /metrics unless metrics.port moves them)."""
    listener_threads: int = Field(default=32, ge=1, le=256)
    """Bolt's listener executor size; Bolt's default of 5 is too small for bursts of clicks."""
    posts_per_second: float = Field(default=1.0, gt=0, le=100)
    """Channel posts per second, sustained: Slack allows about one (a test workspace may allow more)."""
    requests_per_minute_per_user: int = Field(default=5, ge=1, le=10_000)
    """New requests one person may open in a minute (each one posts to the channel and pings two owners)."""
    requests_per_minute_per_channel: int = Field(default=20, ge=1, le=10_000)
    """New requests the whole channel may open in a minute (the channel's posts are paced at posts_per_second)."""
    language: str = i18n.ENGLISH
    """The channel's language (en, zh-CN); ephemerals follow each person's Slack locale, falling back to this."""

    @field_validator("bot_token", "signing_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    _tokens = field_validator("bot_token", "signing_secret", "app_token")(_token_text)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in i18n.LANGUAGES:
            raise ValueError(f"must be one of {', '.join(i18n.LANGUAGES)} (not {value!r})")
        return value

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError("must be a Slack channel ID such as C0123ABCD (not a #name)")
        return value


class StorageSettings(_Strict):
    url: str = "sqlite:///dtsbot.db"
    """The database: sqlite:///FILE for one replica, postgresql+psycopg://USER:PASSWORD@HOST/DB for several."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value


DEFAULT_REMINDER_HOURS = 24.0


class SchedulerSettings(_Strict):
    poll_seconds: float = Field(default=10.0, gt=0, le=3600)
    """How often DTS tasks are polled and due steps run (with 5,000 tasks in one account and region: 30 or more)."""
    approval_expiry_hours: float = Field(default=72.0, gt=0)
    """A request not approved by both sides within this many hours expires."""
    approval_reminder_hours: float = Field(default=DEFAULT_REMINDER_HOURS, ge=0)
    """Hours before expiry at which an approver who has not decided gets one DM; 0: no reminders. Unset: 24, or
    half the approval window when that is shorter (an app.yaml from before reminders keeps loading)."""
    lease_seconds: float = Field(default=60.0, gt=0)
    """How long a replica holds a request's step; a replica that dies loses its leases after this long."""
    recoverable_alert_minutes: float = Field(default=30.0, gt=0)
    """A DTS task recovering from an error (resumableErr within its retry window, resuming, unknown) this long gets
    one notice to look at it."""

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> SchedulerSettings:
        if "approval_reminder_hours" not in self.model_fields_set:  # frozen: the derived default is set in place
            self.__dict__["approval_reminder_hours"] = min(DEFAULT_REMINDER_HOURS, self.approval_expiry_hours / 2)
        elif self.approval_reminder_hours >= self.approval_expiry_hours:
            raise ValueError(f"approval_reminder_hours ({self.approval_reminder_hours:g}) must be less than "
                             f"approval_expiry_hours ({self.approval_expiry_hours:g}): hours before expiry; set "
                             "it lower, 0 for no reminders, or leave it out (default: 24, at most half the expiry)")
        return self


class TencentCloudSettings(_Strict):
    endpoint: str | None = None
    """host:port that every Tencent Cloud API call goes to instead of the real API (the sandbox); unset: real."""
    region: str = "ap-guangzhou"
    """The default region of the API calls that take one (CAM, STS, Secrets Manager): one a request may name."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    """How long one API call may take before the SDK gives up on its answer (a network error)."""

    _region = field_validator("region")(_known_region)


DEFAULT_AUTO_RETRY_MINUTES = 30


def is_email(entry: str) -> bool:
    """Whether a `approvers`/`requesters` entry is an e-mail address (resolved with Slack's users.lookupByEmail)."""
    return bool(_EMAIL.fullmatch(entry))


def slack_ids(value: list[str]) -> list[str]:
    """`value` if every entry is a Slack user (U…/W…) or user-group (S…) ID or an e-mail address of a Slack user,
    else ValueError naming the first."""
    for entry in value:
        if not (_SLACK_ID.fullmatch(entry) or is_email(entry)):
            raise ValueError(f"{entry!r} is not a Slack user (U…/W…) or user-group (S…) ID, nor an e-mail address")
    return value


class MetricsSettings(_Strict):
    port: int | None = Field(default=None, ge=0, le=65535)
    """A second HTTP listener for `GET /healthz` and `GET /metrics` only, for probes and Prometheus. Socket Mode:
    the only HTTP port the bot opens (unset: none). HTTP mode: when it differs from `slack.port`, `/metrics` is
    served here only, not on the public Slack port (`/healthz` on both). Unset: no second listener."""


class Credentials(_Strict):
    secret_id: SecretStr
    """The API key's SecretId (AKID…)."""
    secret_key: SecretStr
    """The API key's SecretKey."""

    _keys = field_validator("secret_id", "secret_key")(_token_text)


class RateLimitSettings(_Strict):
    """`accounts[].rate_limit:` the DTS rate limits a request's task is configured with (`MigrateOption.RateLimit`),
    in DTS's documented ranges; unset: DTS's own default. When both accounts set one, the lower value is used."""

    dump_thread: int | None = Field(default=None, ge=1, le=16)
    """Full export threads (DumpThread, 1-16)."""
    dump_rps: int | None = Field(default=None, ge=1, le=50_000_000)
    """Full export rows per second (DumpRps, 1-50000000)."""
    load_thread: int | None = Field(default=None, ge=1, le=16)
    """Full import threads (LoadThread, 1-16)."""
    load_rps: int | None = Field(default=None, ge=1, le=50_000_000)
    """Full import rows per second (LoadRps, 1-50000000)."""
    sinker_thread: int | None = Field(default=None, ge=1, le=128)
    """Incremental import threads (SinkerThread, 1-128)."""


class AccountSettings(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    """The account's short name in requests and messages (lower case, digits, - and _)."""
    uin: str
    """The account's root UIN (digits; quote it in YAML)."""
    approvers: list[str] = Field(min_length=1)
    """Who approves this side: Slack user (U…/W…) or user-group (S…) IDs, or e-mail addresses of Slack users."""
    credentials: Credentials | None = None
    """None: the SDK's default provider chain (env, profile, CVM role)."""
    executor_uin: str | None = None
    """A sub-account of this account that may execute DTS tasks instead of the root."""
    executor_credentials: Credentials | None = None
    """Keys of `executor_uin`; needed when a request names that sub-account as executor."""
    allow_self_approval: bool = False
    """Whether the requester may approve this side of their own request."""
    requesters: list[str] = []
    """Who may open requests from or into this account (Slack user/group IDs or e-mail addresses); empty: anyone
    in the channel."""
    access: Literal["managed", "guided"] = "managed"
    """managed: the bot does this account's CAM steps with its keys; guided: the owner runs the steps the bot
    generates (no CAM keys here; a guided source account needs no keys at all)."""
    rate_limit: RateLimitSettings | None = None
    """Rate limits for the DTS tasks of requests from or into this account (a source owner protects their
    database); a running task's limits are changed with *Throttle*."""

    @field_validator("uin", "executor_uin", mode="before")
    @classmethod
    def _uin_quoted(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(  # noqa: TRY004 - pydantic reports a ValueError as this key's problem
                f'must be a quoted string: write {info.field_name}: "{value}" (YAML reads unquoted digits as a '
                "number)")
        return value

    @field_validator("uin", "executor_uin")
    @classmethod
    def _uin_digits(cls, value: str | None) -> str | None:
        if value is not None and not _DIGITS.fullmatch(value):
            raise ValueError("must be digits")
        return value

    @field_validator("name")
    @classmethod
    def _name_not_a_uin(cls, value: str) -> str:
        if value.isdigit():
            raise ValueError(f"{value!r} is all digits: a request names an account by its name or its UIN, so a "
                             "name of digits could stand for another account's UIN; use letters too (e.g. shop)")
        return value

    @field_validator("approvers", "requesters")
    @classmethod
    def _slack_ids(cls, value: list[str]) -> list[str]:
        return slack_ids(value)

    @model_validator(mode="after")
    def _executor_pair(self) -> AccountSettings:
        if self.executor_credentials is not None and self.executor_uin is None:
            raise ValueError("executor_credentials needs executor_uin")
        return self


class ApprovalSettings(_Strict):
    same_person_both_sides: bool = False
    """Whether one Slack user may approve both sides of a request (a team of one owning both accounts). Off: the
    two approvals of a plan revision come from two people, whatever list, group or address names them."""

    @field_validator("same_person_both_sides", mode="before")
    @classmethod
    def _true_or_false(cls, value: Any) -> bool:
        """Only a YAML boolean or the words true/false (`${VAR}` gives text): a typo never loosens the rule."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"must be true or false (not {value!r})")


def is_ssm_reference(value: str) -> bool:
    """Whether a configured value is a Secrets Manager reference, read when it is used."""
    return value.startswith("ssm://")


def _checked_reference(value: str) -> str:
    if is_ssm_reference(value) and not SSM_REF.fullmatch(value):
        raise ValueError("is not a Secrets Manager reference: write ssm://<secret name>[#<key>] (a name of 1-128 "
                         "letters, digits, - and _)")
    return value


class DatabaseLogin(_Strict):
    """The database account DTS logs in with on one instance: `user` and `password`, or `login`."""

    user: str | None = Field(default=None, min_length=1)
    """The account name; may be `ssm://name#key`."""
    password: SecretStr | None = None
    """Its password: a `${VAR}` or `VAR_FILE` (read when app.yaml is loaded: a new value needs a restart) or
    `ssm://name[#key]` (read when it is used: a rotated password needs no restart)."""
    login: str | None = None
    """Instead of user and password: `ssm://name` of a JSON secret `{"user": …, "password": …}` (or a Secrets
    Manager database credential's `{"UserName": …, "Password": …}`), read when it is used (so a rotated password
    needs no restart)."""

    @field_validator("user", "login")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        return None if value is None else _checked_reference(value)

    @field_validator("password")
    @classmethod
    def _password_reference(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _checked_reference(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _user_and_password_or_login(self) -> DatabaseLogin:
        if self.login is not None:
            if self.user is not None or self.password is not None:
                raise ValueError("give either login (a Secrets Manager JSON secret) or user and password, not both")
            if not is_ssm_reference(self.login):
                raise ValueError("login must be ssm://<secret name> of a JSON secret with user and password")
        elif self.user is None or self.password is None:
            raise ValueError("needs user and password, or login: ssm://<secret name>")
        return self

    def references(self) -> list[str]:
        """The configured values (never resolved), to check where `{instance}` may appear."""
        password = self.password.get_secret_value() if self.password is not None else None
        return [v for v in (self.user, password, self.login) if v is not None]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CLOUD_SDK_LOGGER = "tencentcloud_sdk_common"
"""The Tencent Cloud SDK's logger: at DEBUG it logs every request and answer whole, so the database passwords
ModifyMigrationJob sends, the temporary keys AssumeRole answers and the values GetSecretValue answers, each before
the bot could tell the redactor (core/logs.py) what to mask. It never goes below INFO."""
DEFAULT_LOGGER_LEVELS = {"apscheduler": "WARNING", CLOUD_SDK_LOGGER: "INFO"}
"""APScheduler logs two INFO lines per job run (every poll); its warnings and errors still show. The SDK's
logger stays at INFO whatever `logging.level` says (CLOUD_SDK_LOGGER)."""


def _level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"{value!r} is not a log level; allowed: {', '.join(LOG_LEVELS)}")
    return value.upper()


class LoggingSettings(_Strict):
    """`logging:` the log levels (logs are JSON lines off a terminal, secrets redacted)."""

    level: str = "INFO"
    """The level of dtsbot's own logs and of every library without a level in `levels`."""
    levels: dict[str, str] = {}
    """Per-logger levels, e.g. `{sqlalchemy.engine: INFO}`; added to the defaults (`apscheduler: WARNING`,
    `tencentcloud_sdk_common: INFO`), which a key here overrides (the SDK's never with DEBUG)."""

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return _level(value)

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, value: dict[str, str]) -> dict[str, str]:
        levels = {logger: _level(level) for logger, level in value.items()}
        if levels.get(CLOUD_SDK_LOGGER) == "DEBUG":
            raise ValueError(f"{CLOUD_SDK_LOGGER}: DEBUG would log every Tencent Cloud request and answer whole, "
                             "database passwords and temporary keys included; allowed: INFO or higher")
        return levels

    def effective_levels(self) -> dict[str, str]:
        """Every per-logger level in force: the defaults, then `levels`."""
        return {**DEFAULT_LOGGER_LEVELS, **self.levels}


class SecretsManagerSettings(_Strict):
    """`secrets_manager:` how `ssm://<secret name>[#<key>]` values are read (Tencent Cloud Secrets Manager)."""

    account: str | None = None
    """Name of a configured account whose `credentials` read the secrets (unset, and no `credentials`: the
    SDK's default chain — environment, profile, CVM/TKE role)."""
    credentials: Credentials | None = None
    """Keys that read the secrets, instead of an account's (`${VAR}` or `*_FILE`, never `ssm://`)."""
    region: str | None = None
    """Where the secrets live; unset: `tencentcloud.region`."""
    cache_seconds: float = Field(default=300.0, ge=0, le=86400)
    """How long a secret read is reused; a use that fails reads it again at once."""

    _region = field_validator("region")(_known_region)

    @model_validator(mode="after")
    def _one_identity(self) -> SecretsManagerSettings:
        if self.account is not None and self.credentials is not None:
            raise ValueError("give account or credentials, not both")
        if self.credentials is not None and any(
                is_ssm_reference(k.get_secret_value()) for k in (self.credentials.secret_id,
                                                                self.credentials.secret_key)):
            raise ValueError("credentials cannot themselves come from Secrets Manager: use ${VAR} or a *_FILE")
        return self


DEFAULT_RETENTION_DAYS = 7.0


class DtsSettings(_Strict):
    """`dts:` how the bot configures DTS tasks."""

    auto_retry_minutes: int = DEFAULT_AUTO_RETRY_MINUTES
    """How long DTS itself retries a task that hit a recoverable error (`resumableErr`) before a person must click
    *Retry task*: `ModifyMigrationJob` `AutoRetryTimeRangeMinutes`, documented as 5-720 minutes, 0 = no automatic
    retry. Shown in each request's plan."""

    @field_validator("auto_retry_minutes")
    @classmethod
    def _documented_window(cls, value: int) -> int:
        if value != 0 and not 5 <= value <= 720:
            raise ValueError(f"{value} is not allowed: DTS takes 5 to 720 minutes, or 0 for no automatic retry "
                             "(AutoRetryTimeRangeMinutes)")
        return value

    retention_days: float = Field(default=DEFAULT_RETENTION_DAYS, ge=0, le=3650)
    """How long a finished or cancelled request's DTS task stays isolated (no longer billing, still recoverable
    with *Undo close-out*) before the bot destroys it (DestroyMigrateJob). 0: destroyed as soon as it is
    isolated. A task that never ran is destroyed at once whatever this says."""

    experimental_engines: list[str] = []
    """Engines outside Tencent's cross-account guide (mariadb, percona) that requests may still name; the plan
    then says the guide does not cover them. Empty: only the guide's engines."""

    @field_validator("experimental_engines")
    @classmethod
    def _experimental_only(cls, value: list[str]) -> list[str]:
        allowed = ", ".join(db_kinds.EXPERIMENTAL_ENGINES)
        names = []
        for entry in value:
            try:
                engine = db_kinds.db_kind(entry)
            except KeyError:
                raise ValueError(f"{entry!r} is not an engine dtsbot knows; allowed: {allowed}") from None
            if engine.in_guide:
                raise ValueError(f"{entry!r} is in the guide's cross-account scope already; list only engines "
                                 f"outside it: {allowed}")
            names.append(engine.name)
        return list(dict.fromkeys(names))


class CutoverSettings(_Strict):
    """`cutover:` the evidence the gate asks for before *Complete* (core/cutover.py)."""

    hold_minutes: float = Field(default=5, ge=0)
    """How long both lag figures (StepInfo `SecondsBehindMaster`, `MasterSlaveDistance`) must read 0 s and 0 MB
    before *Complete* is offered (Tencent's cutover guidance: wait for zero, then a few quiet minutes)."""
    compare: Literal["auto", "manual", "off"] = "auto"
    """The consistency check (DTS compare task): `auto` starts it once the lag first reaches 0 and *Check data*
    runs it again; `manual` only on *Check data*; `off`: never, and the gate does not ask for it."""
    compare_method: Literal["dataCheck", "sampleDataCheck", "rowsCount"] = "dataCheck"
    """`CompareOptions.Method`: dataCheck (every row), sampleDataCheck (a sample, `sample_rate`), rowsCount."""
    sample_rate: int = Field(default=10, ge=1, le=100)
    """`CompareOptions.SampleRate` in percent for `sampleDataCheck` (DTS documents 0-100)."""
    reminder_minutes: float = Field(default=30, ge=0)
    """How long before a request's `cutover_at` window its approvers are reminded (0: no reminder)."""


class SweepSettings(_Strict):
    """`sweep:` the daily look for leftovers (`dtsbot sweep` does the same on demand)."""

    enabled: bool = False
    """Once a day, list what the bot tagged (roles, grant policies, DTS tasks) whose request is finished or unknown
    to this database and post it to the channel, each with a *Clean up* button for the owning side's approvers.
    Off by default: the sweep lists every role and policy of each managed account."""
    hour: int = Field(default=3, ge=0, le=23)
    """The hour of the day (UTC) from which the daily sweep runs."""


class AlertSettings(_Strict):
    """`alerts:` what reaches a person (DM and thread) while a migration runs: a lag that stays high, a full load
    that stops moving, an error state; once per episode, with a "back to normal" notice."""

    enabled: bool = True
    """Whether the alerts run at all."""
    lag_seconds: int = Field(default=60, ge=1)
    """A lag (DTS's SecondsBehindMaster) above this many seconds ..."""
    lag_minutes: float = Field(default=10, gt=0)
    """... for this many minutes is an alert."""
    stall_minutes: float = Field(default=30, gt=0)
    """Full-load progress that has not moved for this many minutes is an alert."""
    snooze_hours: float = Field(default=4, gt=0)
    """How long *Snooze* (in the alert's DM) silences a request's alerts."""


class Settings(_Strict):
    slack: SlackSettings
    """The Slack app and channel."""
    storage: StorageSettings = StorageSettings()
    """Where requests, approvals, the audit log, the outbox and cloud ownership are kept."""
    scheduler: SchedulerSettings = SchedulerSettings()
    """The workflow's pace, leases and approval windows."""
    tencentcloud: TencentCloudSettings = TencentCloudSettings()
    """The Tencent Cloud API."""
    dts: DtsSettings = DtsSettings()
    """How the bot configures DTS tasks."""
    sweep: SweepSettings = SweepSettings()
    """The daily sweep for tagged leftovers."""
    approvals: ApprovalSettings = ApprovalSettings()
    """Who may approve what (the two-person rule)."""
    cutover: CutoverSettings = CutoverSettings()
    """The cutover gate: lag held at zero, the consistency check, the window."""
    alerts: AlertSettings = AlertSettings()
    """Alerts to people while a migration runs (lag, stalled full load, errors)."""
    metrics: MetricsSettings = MetricsSettings()
    """The probes' and Prometheus' own port."""
    accounts: list[AccountSettings] = Field(min_length=2)
    """The Tencent Cloud accounts requests move data between (at least two)."""
    databases: dict[str, DatabaseLogin] = {}
    """Database logins by instance ID; `"*"`: every other instance (its references may contain `{instance}`)."""
    requesters: list[str] = []
    """Who may open requests at all (Slack user/group IDs or e-mail addresses); empty: anyone in the channel."""
    logging: LoggingSettings = LoggingSettings()
    """Log levels: `level` and per-logger `levels`."""
    secrets_manager: SecretsManagerSettings = SecretsManagerSettings()
    """How `ssm://` references are read (Tencent Cloud Secrets Manager, GetSecretValue)."""

    @field_validator("requesters")
    @classmethod
    def _slack_ids(cls, value: list[str]) -> list[str]:
        return slack_ids(value)

    @model_validator(mode="after")
    def _unique_accounts(self) -> Settings:
        for attr in ("name", "uin"):
            seen = [getattr(a, attr) for a in self.accounts]
            dupes = sorted({v for v in seen if seen.count(v) > 1})
            if dupes:
                raise ValueError(f"accounts: duplicate {attr} {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _instance_placeholder(self) -> Settings:
        for instance, login in self.databases.items():
            if instance != ANY_INSTANCE and any(INSTANCE_PLACEHOLDER in v for v in login.references()):
                raise ValueError(f"databases.{instance}: {INSTANCE_PLACEHOLDER} is allowed only in the "
                                 f"\"{ANY_INSTANCE}\" entry")
        return self

    @model_validator(mode="after")
    def _secrets_manager_account(self) -> Settings:
        name = self.secrets_manager.account
        if name is None:
            return self
        account = next((a for a in self.accounts if a.name == name), None)
        if account is None or account.credentials is None:
            raise ValueError(f"secrets_manager.account: {name!r} is not a configured account with credentials")
        if any(is_ssm_reference(k.get_secret_value()) for k in (account.credentials.secret_id,
                                                               account.credentials.secret_key)):
            raise ValueError(f"secrets_manager.account: the credentials of {name} come from Secrets Manager "
                             "themselves; read the secrets with other keys (secrets_manager.credentials)")
        return self

    def account(self, name_or_uin: str) -> AccountSettings:
        """The configured account with this name or root UIN (KeyError if none)."""
        for account in self.accounts:
            if name_or_uin in (account.name, account.uin):
                return account
        raise KeyError(name_or_uin)


def _loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")


def parse_settings(data: Any, environ: dict[str, str] | None = None) -> Settings:
    """Validate an already-loaded YAML tree (after `${NAME}` resolution, core/references.py) into Settings."""
    if not isinstance(data, dict):
        raise ConfigError(["(top level): must be a mapping of keys such as slack, accounts"])
    data, problems = resolve_references(data, dict(os.environ) if environ is None else environ)
    if problems:
        raise ConfigError(problems)
    settings = _validated(data)
    if not startup_references(data):
        return settings
    problems = read_startup_secrets(settings, data)  # Slack's tokens and the API keys: read once, now
    if problems:
        raise ConfigError(problems)
    return _validated(data)


def _validated(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([f"{_loc(e['loc']) or '(top level)'}: {_message(e)}" for e in exc.errors()]) from None


def load_settings(path: str | Path, environ: dict[str, str] | None = None) -> Settings:
    """Read app.yaml, resolve `${NAME}` references, validate; raise ConfigError naming each bad key."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory; give the path of app.yaml"]) from None
    except UnicodeDecodeError as exc:
        byte = f"byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise ConfigError([f"{path}: not UTF-8 text ({byte}); save it as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"]) from None
    except DuplicateKeys as exc:
        raise ConfigError(exc.problems) from None
    except YamlError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    return parse_settings(data, environ)

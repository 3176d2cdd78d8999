"""The sandbox world: root accounts, their sub-accounts and keys, TencentDB instances, live STS sessions.

Every service backend reads identities and instances from here; per-account service state hangs off it
(`cam(uin)` for CAM, `services[...]` for the others, e.g. DTS). `default_world()` is the world of the shipped
app.yaml (accounts `shop-prod`, `analytics`, `finance`); `load_world(path)` reads the same data from
YAML/JSON:

    speed: 60                       # optional clock speed factor
    accounts:
      - {uin: "100000000001", name: shop-prod, secret_id: AKID..., secret_key: ..., balance: 10000,
         sub_accounts: [{uin: "100000000011", name: dba, secret_id: AKID..., secret_key: ...}],
         instances: [{instance_id: cdb-src00001, engine: mysql, region: ap-guangzhou,
                      vip: 10.0.1.1, port: 3306, fail_checks: [], password: optional},
                     {instance_id: cmgo-src00002, engine: mongodb, vip: 10.0.1.9, port: 27017,
                      topology: sharded}],
         secrets: {dtsbot-db-cdb-src00001: {user: dts_reader, password: ...}}}

An instance's `topology` is what its engine's Describe API reports: MongoDB `replicaset` (ClusterType 0, the
default) or `sharded` (1); Redis and Tendis `standard` (ProductType standalone, the default) or `cluster`; the
other engines have none. `redis_type` overrides the Redis `Type` the sandbox derives from it (Redis 5.0);
`has_data` marks a target that is not empty (DTS's DstWriteMode `normal` then fails the check).
A source's `write_load` puts the incremental sync that many seconds (and half as many MB) behind while a task
catches up (a test raises and lowers it); `lag_unknown` makes DTS give -1 for both figures; `differing_tables`
("db.table") are what a compare task finds different; `compare_unsupported` refuses CreateCompareTask.
An instance's `password`, when given, is the one its DTS connection check accepts (ConnectDBCheck fails with
another); `secrets` are the account's Secrets Manager secrets (a mapping is stored as its JSON).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.tencentcloud.cam.models import CamBackend
from sandbox.tencentcloud.clock import Clock
from sandbox.tencentcloud.ssm.models import as_text, ssm_backend


@dataclass
class SubAccount:
    uin: str
    name: str
    secret_id: str
    secret_key: str


DEFAULT_TOPOLOGY = {"mongodb": "replicaset", "redis": "standard", "tendis": "standard"}


@dataclass
class Instance:
    instance_id: str
    engine: str
    region: str
    vip: str
    port: int
    fail_checks: list[str] = field(default_factory=list)  # names of DTS check steps this instance fails
    topology: str = ""  # mongodb: replicaset | sharded; redis, tendis: standard | cluster; others: ""
    redis_type: int | None = None  # Redis InstanceSet.Type; None: Redis 5.0 of the topology (8 or 9)
    has_data: bool = False  # the instance holds data (a target under DstWriteMode normal fails the check)
    password: str | None = None  # set: the only password DTS's connection check accepts for it
    write_load: int = 0  # a source's writes: the incremental sync is this many s (and half as many MB) behind
    lag_unknown: bool = False  # DTS gives no lag figure for a task reading this source (-1, as for non-MySQL)
    differing_tables: list[str] = field(default_factory=list)  # "db.table"s a compare task finds different
    compare_unsupported: bool = False  # DTS cannot compare a link from this source (CreateCompareTask refused)
    skipped_tables: list[str] = field(default_factory=list)  # "db.table"s a compare task skips (no primary key)

    def __post_init__(self) -> None:
        if not self.topology:
            self.topology = DEFAULT_TOPOLOGY.get(self.engine, "")


@dataclass
class Account:
    uin: str
    name: str
    secret_id: str
    secret_key: str
    sub_accounts: list[SubAccount] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    balance: float = 10000.0


@dataclass
class Session:
    """Temporary credentials issued by STS AssumeRole: they act as `role_name` of `role_owner_uin`."""

    tmp_secret_id: str
    tmp_secret_key: str
    token: str
    expires_at: float
    role_owner_uin: str
    role_name: str
    assumed_by_uin: str
    role_id: str = ""
    session_name: str = ""


@dataclass
class Caller:
    """Who signed a request: a root account, a sub-account, or a role session.

    For a role session `uin` is the session identity (`<role id>:<session name>`) and `owner_uin` the account
    that owns the role; otherwise `owner_uin` is the root account of `uin`.
    """

    uin: str
    owner_uin: str
    is_root: bool
    session: Session | None = None


class UnknownAccount(KeyError):
    """No root account with that UIN in the world."""


class World:
    """All sandbox state; `lock` serialises the requests that read or change it."""

    def __init__(self, accounts: list[Account], speed: float = 1.0) -> None:
        self.accounts: dict[str, Account] = {a.uin: a for a in accounts}
        self.clock = Clock(speed)
        self.sessions: dict[str, Session] = {}
        self.services: dict[str, Any] = {}
        self.lock = threading.RLock()
        self._cams: dict[str, CamBackend] = {}

    def account(self, uin: str) -> Account:
        """The root account `uin`; raises UnknownAccount if the world has none."""
        try:
            return self.accounts[uin]
        except KeyError:
            raise UnknownAccount(uin) from None

    def instance(self, uin: str, region: str, instance_id: str) -> Instance | None:
        """Instance `instance_id` of account `uin` in `region`, if any."""
        account = self.accounts.get(uin)
        if account is None:
            return None
        for inst in account.instances:
            if inst.instance_id == instance_id and inst.region == region:
                return inst
        return None

    def cam(self, owner_uin: str) -> CamBackend:
        """CAM state (roles, policies, attachments) of account `owner_uin`."""
        self.account(owner_uin)
        if owner_uin not in self._cams:
            self._cams[owner_uin] = CamBackend(owner_uin, self.clock)
        return self._cams[owner_uin]

    def add_session(self, session: Session) -> None:
        """Record temporary credentials issued by STS so they can sign later requests."""
        self.sessions[session.tmp_secret_id] = session

    def session(self, tmp_secret_id: str, token: str) -> Session | None:
        """The live (unexpired) session for these temporary credentials, or None."""
        s = self.sessions.get(tmp_secret_id)
        if s is None or s.token != token or s.expires_at <= self.clock.now():
            return None
        return s

    def role_policy_names(self, owner_uin: str, role_name: str) -> set[str]:
        """Names of the policies attached to role `role_name` of account `owner_uin` (empty if no role)."""
        return self.cam(owner_uin).role_policy_names(role_name)

    def credential(self, secret_id: str) -> tuple[str, Caller] | None:
        """Secret key and caller for a permanent SecretId (root or sub-account), or None if unknown."""
        for account in self.accounts.values():
            if account.secret_id == secret_id:
                return account.secret_key, Caller(account.uin, account.uin, True)
            for sub in account.sub_accounts:
                if sub.secret_id == secret_id:
                    return sub.secret_key, Caller(sub.uin, account.uin, False)
        return None


REGION = "ap-guangzhou"

# (engine, instance id prefix, serial, port, topology); the default world gives each account one instance per
# engine, plus a sharded MongoDB and a Redis cluster.
_ENGINES = [
    ("mysql", "cdb", 1, 3306, ""),
    ("mariadb", "tdsql", 1, 3306, ""),
    ("percona", "cdb", 2, 3306, ""),
    ("postgresql", "postgres", 1, 5432, ""),
    ("mongodb", "cmgo", 1, 27017, "replicaset"),
    ("sqlserver", "mssql", 1, 1433, ""),
    ("redis", "crs", 1, 6379, "standard"),
    ("tendis", "tendis", 1, 6379, "standard"),
    ("mongodb", "cmgo", 2, 27017, "sharded"),
    ("redis", "crs", 2, 6379, "cluster"),
]


def _instances(tag: str, subnet: int) -> list[Instance]:
    return [
        Instance(f"{prefix}-{tag}{serial:05d}", engine, REGION, f"10.0.{subnet}.{i + 1}", port, topology=topology)
        for i, (engine, prefix, serial, port, topology) in enumerate(_ENGINES)
    ]


def default_world(speed: float = 1.0) -> World:
    """The world of the shipped app.yaml: shop-prod (source), analytics (target), finance."""
    return World(
        [
            Account(
                "100000000001", "shop-prod",
                "AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001",
                [SubAccount("100000000011", "shop-prod-dba",
                            "AKIDSANDBOXSOURCESUB0000000000011", "sandbox-source-sub-secret-key-0011")],
                _instances("src", 1),
            ),
            Account(
                "100000000002", "analytics",
                "AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002",
                [SubAccount("100000000021", "dts-executor",
                            "AKIDSANDBOXTARGETSUB0000000000021", "sandbox-target-sub-secret-key-0021")],
                _instances("dst", 2),
            ),
            Account(
                "100000000003", "finance",
                "AKIDSANDBOXFINANCE000000000000003", "sandbox-finance-secret-key-0003",
                [],
                _instances("fin", 3),
            ),
        ],
        speed,
    )


class WorldError(Exception):
    """A world file that cannot be read; the message says what is wrong in one line."""


def world_from_dict(data: dict[str, Any], speed: float | None = None) -> World:
    """Build a world from plain data (the format of `load_world`); `speed` overrides the file's."""
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        raise WorldError("a world file is a mapping with `accounts:` (a list of uin, name, secret_id, secret_key, "
                         "instances)")
    if "slack" in data:
        raise WorldError("this looks like app.yaml, not a sandbox world file; leave --world out to serve the "
                         "world of the shipped app.yaml, or write a world file (see sandbox/tencentcloud/world.py)")
    try:
        world = _world(data, speed)
    except KeyError as missing:
        raise WorldError(f"an account, sub-account or instance lacks the key {missing}") from None
    except (TypeError, ValueError) as error:
        raise WorldError(f"a value has the wrong type ({error})") from None
    for account in data["accounts"]:
        for name, value in (account.get("secrets") or {}).items():
            ssm_backend(world, str(account["uin"])).create(str(name), as_text(value))
    return world


def _world(data: dict[str, Any], speed: float | None) -> World:
    accounts = [
        Account(
            uin=str(a["uin"]), name=a["name"], secret_id=a["secret_id"], secret_key=a["secret_key"],
            sub_accounts=[
                SubAccount(str(s["uin"]), s["name"], s["secret_id"], s["secret_key"])
                for s in a.get("sub_accounts", [])
            ],
            instances=[
                Instance(i["instance_id"], i["engine"], i.get("region", REGION), i["vip"], int(i["port"]),
                         list(i.get("fail_checks", [])), str(i.get("topology") or ""), i.get("redis_type"),
                         bool(i.get("has_data", False)), i.get("password"), int(i.get("write_load", 0)),
                         bool(i.get("lag_unknown", False)), list(i.get("differing_tables", [])),
                         bool(i.get("compare_unsupported", False)))
                for i in a.get("instances", [])
            ],
            balance=float(a.get("balance", 10000.0)),
        )
        for a in data["accounts"]
    ]
    return World(accounts, speed if speed is not None else float(data.get("speed", 1.0)))


def load_world(path: str | Path, speed: float | None = None) -> World:
    """Read a world from a YAML or JSON file (JSON is YAML, one parser serves both); WorldError if unusable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        raise WorldError(f"{path}: cannot be read as YAML or JSON ({type(error).__name__})") from None
    return world_from_dict(data, speed)

"""An endpoint's topology as DTS wants it (dts v20211206 `DBEndpointInfo.NodeType` and `ExtraAttr`, Redis'
`MigrateOption.ExtraAttr`), decided from what the instance says about itself, one table per documented enum.

DTS documents NodeType as `simple`/`cluster` in general, `replicaset`/`standalone`/`cluster` for MongoDB and
`simple`/`cluster-cache`/`cluster-proxy` for Redis. DTS's own instance listing (DescribeMigrateDBInstances,
`MigrateDBItem`) carries no topology — InstanceId, InstanceName, Vip, Vport, Usable and Hint only — so the
engine's own Describe API is read (handlers.topology): MongoDB `DescribeDBInstances` (mongodb v20190725,
`InstanceDetail.ClusterType`), Redis `DescribeInstances` (redis v20180412, `InstanceSet.ProductType` and
`.Type`). Every documented value has a row here; a value without one, or one the bot must not migrate, raises
`Undecided`: a diagnosis, never a guess. tests/core/test_topology_drift.py holds the tables to the installed
SDK's documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.db_kinds import DbKind
from core.i18n import N_, _

SIMPLE = "simple"

NODE_TYPES: dict[str, str] = {
    "simple": "MySQL, PostgreSQL, SQL Server, MariaDB, Percona (one endpoint each: nothing is read), and a "
              "Redis/Tendis instance whose ProductType is standalone",
    "cluster": "a sharded MongoDB instance (ClusterType 1); the general `cluster` (cluster nodes) is never sent "
               "for the other engines: each of their TencentDB instances is one endpoint",
    "replicaset": "a MongoDB replica set (ClusterType 0)",
    "standalone": "never: TencentDB for MongoDB has no single-node instances (ClusterType documents 0 and 1 "
                  "only); DTS documents it for self-built MongoDB",
    "cluster-cache": "never: a TencentDB for Redis cluster is reached through its proxy; connecting to each "
                     "shard directly is for self-built Redis clusters",
    "cluster-proxy": "a Redis/Tendis instance whose ProductType is cluster (TencentDB for Redis serves its "
                     "cluster architecture through a proxy)",
}
"""Every documented `DBEndpointInfo.NodeType` value → when the bot sends it."""


@dataclass(frozen=True)
class Shape:
    """A documented value's decision: the NodeType it means and what people call it (a msgid)."""

    node_type: str
    label: str


MONGODB_CLUSTER_TYPES: dict[int, Shape] = {
    0: Shape("replicaset", N_("replica set")),
    1: Shape("cluster", N_("sharded cluster")),
}
"""`InstanceDetail.ClusterType` → NodeType."""

REDIS_PRODUCT_TYPES: dict[str, Shape] = {
    "standalone": Shape(SIMPLE, N_("standard architecture")),
    "cluster": Shape("cluster-proxy", N_("cluster architecture")),
}
"""`InstanceSet.ProductType` → NodeType."""


@dataclass(frozen=True)
class RedisType:
    """A documented `InstanceSet.Type`: the edition, the ProductType it belongs to, and whether DTS's Redis
    migration documents it (TencentDB for Redis 2.8 to 7.0; CKV, Valkey and Memcached are not named)."""

    edition: str
    product_type: str
    migrates: bool


REDIS_TYPES: dict[int, RedisType] = {
    2: RedisType("Redis 2.8", "standalone", True),
    3: RedisType("CKV 3.2", "standalone", False),
    4: RedisType("CKV 3.2", "cluster", False),
    5: RedisType("Redis 2.8", "standalone", True),  # documented as single node (单机)
    6: RedisType("Redis 4.0", "standalone", True),
    7: RedisType("Redis 4.0", "cluster", True),
    8: RedisType("Redis 5.0", "standalone", True),
    9: RedisType("Redis 5.0", "cluster", True),
    15: RedisType("Redis 6.2", "standalone", True),
    16: RedisType("Redis 6.2", "cluster", True),
    17: RedisType("Redis 7.0", "standalone", True),
    18: RedisType("Redis 7.0", "cluster", True),
    19: RedisType("Valkey 8.0", "standalone", False),
    20: RedisType("Valkey 8.0", "cluster", False),
    21: RedisType("Valkey 8.0", "standalone", False),
    22: RedisType("Valkey 8.0", "cluster", False),
    200: RedisType("Memcached 1.6", "cluster", False),
}
"""`InstanceSet.Type` → edition; read for `db_type=redis` (Tendis' types are not in the Redis reference)."""

MONGODB_EXTRA_ATTR: dict[str, str | None] = {
    "AuthDatabase": "admin",
    "AuthFlag": "1",
    "AuthMechanism": "SCRAM-SHA-1",
    "fetchMethod": None,
    "connectMode": None,
    "EncryptedConnProtocol": None,
}
"""Every key DTS documents for a MongoDB endpoint's `ExtraAttr` → the value sent (None: not sent).

AuthDatabase `admin`: TencentDB for MongoDB's accounts (mongouser and those made in the console) are created in
admin; AuthFlag `1`: its instances always require authentication; AuthMechanism `SCRAM-SHA-1`: DTS's own example,
accepted by every MongoDB version TencentDB offers. Not sent: fetchMethod (DTS's default, oplog), connectMode `srv`
(public-network SRV addresses), EncryptedConnProtocol (MongoDB Atlas SSL)."""

DST_WRITE_MODE = "DstWriteMode"
WRITE_MODES: dict[str, str] = {
    "clearData": N_("DTS empties the target instance first"),
    "overwrite": N_("keys that exist on the target are overwritten"),
    "normal": N_("the target must be empty, else verification fails"),
}
"""`DstWriteMode` (MigrateOption.ExtraAttr, Redis) → what it means, as shown in the plan."""
DEFAULT_WRITE_MODE = "normal"
"""The bot never overwrites or clears someone's data unless the request says so."""
DTS_DEFAULT_WRITE_MODE = "overwrite"
"""What DTS does when DstWriteMode is not sent ("不显示指定默认以覆盖写的方式执行任务"): the bot always sends it."""

REDIS_OPTION_EXTRA_ATTR: dict[str, str] = {
    "DstWriteMode": "the request's write_mode (default normal), always sent",
    "IsDstReadOnly": "not sent: DTS's default (the target stays writable)",
    "ClientOutputBufferHardLimit": "not sent: DTS's default",
    "ClientOutputBufferSoftLimit": "not sent: DTS's default",
    "ClientOutputBufferPersistTime": "not sent: DTS's default",
    "ReplBacklogSize": "not sent: DTS's default",
    "ReplTimeout": "not sent: DTS's default",
    "IsExpireKey": "not sent: DTS's default",
}
"""Every key DTS documents for Redis in `MigrateOption.ExtraAttr` → what the bot does with it."""


class Undecided(Exception):
    """The instance's topology cannot be decided from what it says: `what` it said and `why` that stops it."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(what)
        self.what, self.why = what, why


@dataclass(frozen=True)
class Topology:
    """An endpoint's NodeType, with what the instance said (`read`, e.g. "ClusterType 1") and its name."""

    node_type: str
    read: str = ""
    label: str = ""

    def fact(self) -> dict[str, str]:
        """As a request fact (storage.facts: source_topology, target_topology)."""
        return {"node_type": self.node_type, "read": self.read, "label": self.label}

    @classmethod
    def of(cls, fact: Mapping[str, Any] | None) -> Topology | None:
        """From a request fact; None when it was not recorded."""
        if not fact:
            return None
        return cls(str(fact["node_type"]), str(fact.get("read") or ""), str(fact.get("label") or ""))

    def said(self) -> str:
        """How a notice says it: `sharded cluster (ClusterType 1) → NodeType cluster`."""
        if not self.read:
            return _("one endpoint → NodeType `{node_type}`", node_type=self.node_type)
        return _("{label} ({read}) → NodeType `{node_type}`", label=_(self.label), read=self.read,
                 node_type=self.node_type)


ONE_ENDPOINT = Topology(SIMPLE)
"""The engines whose TencentDB instances are one endpoint (db_kinds `topology="none"`): nothing is read."""


def from_mongodb(detail: Mapping[str, Any]) -> Topology:
    """The topology of a MongoDB `InstanceDetail` (DescribeDBInstances)."""
    value = detail.get("ClusterType")
    shape = MONGODB_CLUSTER_TYPES.get(value) if isinstance(value, int) else None
    if shape is None:
        raise Undecided(_("MongoDB reports ClusterType `{value}`", value=value),
                        _("DTS's NodeType depends on it, and the API reference documents only 0 (replica set) and 1 "
                          "(sharded cluster)."))
    return Topology(shape.node_type, f"ClusterType {value}", shape.label)


def from_redis(instance: Mapping[str, Any], engine: DbKind) -> Topology:
    """The topology of a Redis `InstanceSet` (DescribeInstances); for `db_type=redis` its Type must be a Redis
    edition DTS migrates, of the same ProductType."""
    product, type_ = instance.get("ProductType"), instance.get("Type")
    shape = REDIS_PRODUCT_TYPES.get(str(product))
    if shape is None:
        raise Undecided(_("Redis reports ProductType `{value}`", value=product),
                        _("DTS's NodeType depends on it, and the API reference documents only standalone and "
                          "cluster."))
    read = f"ProductType {product}, Type {type_}"
    if engine.name != "redis":  # Tendis: read through the Redis API (a guess), its Types are not documented there
        return Topology(shape.node_type, read, shape.label)
    edition = REDIS_TYPES.get(type_) if isinstance(type_, int) else None
    if edition is None:
        raise Undecided(_("Redis reports Type `{value}`", value=type_),
                        _("The API reference does not document this instance type, so the bot cannot tell whether "
                          "DTS migrates it as Redis."))
    if not edition.migrates:
        raise Undecided(_("the instance is {edition} (Type {value})", edition=edition.edition, value=type_),
                        _("DTS's Redis migration documents TencentDB for Redis 2.8 to 7.0 only."))
    if edition.product_type != product:
        raise Undecided(_("Redis reports Type {value} ({edition}, {expected}) but ProductType `{product}`",
                          value=type_, edition=edition.edition, expected=edition.product_type, product=product),
                        _("The two fields disagree about the instance's architecture."))
    return Topology(shape.node_type, read, shape.label)


def endpoint_extra_attr(engine: DbKind) -> list[dict[str, str]]:
    """`DBEndpointInfo.ExtraAttr` for an endpoint of this engine (MongoDB's authentication, else none)."""
    if engine.topology != "mongodb":
        return []
    return [{"Key": key, "Value": value} for key, value in MONGODB_EXTRA_ATTR.items() if value is not None]


def takes_write_mode(engine: DbKind) -> bool:
    """Whether the engine's tasks take `DstWriteMode` (the Redis family: Redis, and Tendis read as Redis)."""
    return engine.topology == "redis"


def option_extra_attr(engine: DbKind, write_mode: str | None) -> list[dict[str, str]]:
    """`MigrateOption.ExtraAttr`: the write mode, always explicit for the Redis family (DTS would overwrite)."""
    if not takes_write_mode(engine):
        return []
    return [{"Key": DST_WRITE_MODE, "Value": write_mode or DEFAULT_WRITE_MODE}]

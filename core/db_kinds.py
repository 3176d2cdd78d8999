"""The database kinds (DTS `DatabaseType`s) a cross-account DTS migration supports, as one table.

Each row says how the engine is named by people and by DTS (`DatabaseType`), what its TencentDB instance IDs
look like, which read-only CAM policy the source role needs for it (the guide's step 5), which migrate types
DTS accepts for it, whether Tencent must allow-list the account first (Redis and Tendis: "Only the last two
options need to be applied by submitting a ticket"), whether the guide covers it at all, and which API tells
the instance's topology (core.topology).

Scope: the guide's "Application Scope" names MySQL, MongoDB, PostgreSQL, SQL Server, Redis and Tendis. MariaDB
and Percona are offered only when an operator lists them in `dts.experimental_engines`; the plan then says the
guide does not cover them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from core.i18n import _

TopologyApi = Literal["none", "mongodb", "redis"]
"""Where an instance's topology (DTS `NodeType`) is read: `none` (one endpoint: always `simple`), MongoDB's
DescribeDBInstances, or Redis's DescribeInstances (core.topology)."""

FULL_AND_INCREMENT = "fullAndIncrement"
MIGRATE_TYPES = ("structure", "full", FULL_AND_INCREMENT)


@dataclass(frozen=True)
class DbKind:
    """One supported source/target database kind."""

    name: str  # canonical name used in requests
    label: str  # how the console and people write it
    database_type: str  # DTS `DatabaseType` / `SrcDatabaseType` value
    instance_prefixes: tuple[str, ...]  # TencentDB instance ID prefixes, e.g. ("cdb-",)
    read_only_policy: str  # preset CAM policy giving the role read access to this service
    needs_allowlisting: bool  # Tencent must enable cross-account migration by ticket first
    migrate_types: tuple[str, ...] = MIGRATE_TYPES
    aliases: tuple[str, ...] = ()
    in_guide: bool = True  # named by the guide's "Application Scope"; else only behind dts.experimental_engines
    topology: TopologyApi = "none"
    policy_guessed: bool = False  # Tencent documents no read-only policy for it: `read_only_policy` is a guess


# Read-only policies, as Tencent Cloud documents them (checked 2026-11):
# - QcloudDTSReadOnlyAccess, QcloudCDBReadOnlyAccess, QcloudSQLServerReadOnlyAccess: the public guide "Migrating
#   data between instances across Tencent accounts", "Authorizing Account" step 5;
#   QcloudCDBReadOnlyAccess also in MySQL's "Console Examples" (https://cloud.tencent.com/document/product/236/14468).
# - QcloudMariaDBInnerReadOnlyAccess (mariadb:Describe*): MariaDB's "Console Examples"
#   (https://intl.cloud.tencent.com/document/product/237/35444), which names it and QcloudMariaDBFullAccess only;
#   "QcloudMariaDBReadOnlyAccess" appears only in third-party comparison tables, not in Tencent's MariaDB pages.
# - QcloudRedisReadOnlyAccess: CAM's list of services and preset policies (TencentDB for Redis row, linking
#   https://intl.cloud.tencent.com/document/product/239/38687).
# - QcloudPostgreSQLReadOnlyAccess, QcloudMongoDBReadOnlyAccess: CAM's preset policy lists (not re-verified here).
# - Tendis: no Tendis preset policy is documented and the SDK has no Tendis service; Tendis instances are managed
#   through the Redis CAM service, so the Redis one is used and its topology is read with Redis's
#   DescribeInstances — a GUESS (`policy_guessed`), shown as such in the plan; confirm with Tencent when the
#   ticket enables Tendis. The role needs the engine's preset anyway: the preflight reads the source instance's
#   topology through the role (MongoDB's and Redis's read-only presets allow their Describe* actions).
DB_KINDS: tuple[DbKind, ...] = (
    DbKind("mysql", "MySQL", "mysql", ("cdb-",), "QcloudCDBReadOnlyAccess", False),
    DbKind("mariadb", "MariaDB", "mariadb", ("tdsql-",), "QcloudMariaDBInnerReadOnlyAccess", False,
           in_guide=False),
    DbKind("percona", "Percona", "percona", ("cdb-",), "QcloudCDBReadOnlyAccess", False, in_guide=False),
    DbKind(
        "postgresql", "PostgreSQL", "postgresql", ("postgres-",), "QcloudPostgreSQLReadOnlyAccess", False,
        aliases=("postgres", "pg", "pgsql"),
    ),
    DbKind("mongodb", "MongoDB", "mongodb", ("cmgo-",), "QcloudMongoDBReadOnlyAccess", False, aliases=("mongo",),
           topology="mongodb"),
    DbKind(
        "sqlserver", "SQL Server", "sqlserver", ("mssql-",), "QcloudSQLServerReadOnlyAccess", False,
        aliases=("mssql",),
    ),
    DbKind(
        "redis", "Redis", "redis", ("crs-",), "QcloudRedisReadOnlyAccess", True,
        migrate_types=(FULL_AND_INCREMENT,), topology="redis",
    ),
    # Tendis is managed through the Redis service in CAM (policy and topology read guessed, see above); IDs
    # tendis- or crs-.
    DbKind(
        "tendis", "Tendis", "tendis", ("tendis-", "crs-"), "QcloudRedisReadOnlyAccess", True,
        migrate_types=(FULL_AND_INCREMENT,), topology="redis", policy_guessed=True,
    ),
)

DB_KIND_NAMES: tuple[str, ...] = tuple(e.name for e in DB_KINDS)
GUIDE_ENGINES: tuple[str, ...] = tuple(e.name for e in DB_KINDS if e.in_guide)
"""The engines of the guide's cross-account scope: offered to every request."""
EXPERIMENTAL_ENGINES: tuple[str, ...] = tuple(e.name for e in DB_KINDS if not e.in_guide)
"""Engines outside that scope, offered only when listed in `dts.experimental_engines`."""


def _key(text: str) -> str:
    """Spelling-insensitive key: `SQL Server`, `sql_server` and `sqlserver` are the same engine."""
    return re.sub(r"[\s_-]+", "", text).lower()


_BY_KEY: dict[str, DbKind] = {
    _key(spelling): e for e in DB_KINDS for spelling in (e.name, e.label, *e.aliases)
}


def db_kind(name: str) -> DbKind:
    """The engine named `name` (canonical name, label or alias, any case); KeyError when unknown."""
    found = _BY_KEY.get(_key(name))
    if found is None:
        raise KeyError(name)
    return found


def needs_allowlisting(db_type: str) -> bool:
    """Whether Tencent must allow-list cross-account migration for this engine (Redis, Tendis)."""
    return db_kind(db_type).needs_allowlisting


def allowlisting_note(db_type: str) -> str | None:
    """The note to show with a request for an engine that needs a Tencent ticket first, else None."""
    e = db_kind(db_type)
    if not e.needs_allowlisting:
        return None
    return _("{engine} cross-account migration must first be enabled by Tencent Cloud: submit a ticket "
             "(https://console.cloud.tencent.com/workorder/category) before the task can be configured.",
             engine=e.label)


def offered(experimental: Collection[str] = ()) -> tuple[DbKind, ...]:
    """The engines a request may name: the guide's scope plus those of `experimental` (dts.experimental_engines)."""
    return tuple(e for e in DB_KINDS if e.in_guide or e.name in experimental)


def scope_notes(db_type: str) -> tuple[str, ...]:
    """What the plan must say about an engine the guide does not cover or whose policy is a guess."""
    e = db_kind(db_type)
    notes = []
    if not e.in_guide:
        notes.append(_("{engine} is not covered by Tencent's cross-account guide (enabled here by "
                       "dts.experimental_engines): DTS may refuse it or behave differently.", engine=e.label))
    if e.policy_guessed:
        notes.append(_("{engine}: Tencent documents no read-only policy for it; the role gets `{policy}` and its "
                       "topology is read through the Redis API, both a guess.", engine=e.label,
                       policy=e.read_only_policy))
    return tuple(notes)

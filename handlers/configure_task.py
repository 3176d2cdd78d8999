"""Configure the DTS task (guide, "Creating Migration Task" steps 2-5): the cross-account source reached
through the role (AccessType cdb, AccountMode other, Account, AccountRole, temporary credentials), the target
in the task's own account, the migrate type and objects. Already configured the same way: nothing is sent.

Each endpoint's NodeType is the instance's own topology as the preflight read it (`facts.source_topology`,
`target_topology`; read now when missing), with the engine's ExtraAttr (core.topology: MongoDB's authentication);
a Redis-family task always sends its DstWriteMode (the request's `write_mode`): DTS would overwrite when unset.

The temporary credentials DTS is given expire (AssumeRole `DurationSeconds`): their issue time is kept in
`facts["credentials_issued_at"]`, and a re-verification or a start that comes later than their life allows
re-assumes the role and configures the task again (`credentials_expired`, `send_configuration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from typing import Any

from core import cutover
from core.cloud import SESSION_SECONDS, Api, CloudClients
from core.control import configured_limits
from core.db_kinds import DbKind, db_kind
from core.i18n import _
from core.steps import Outcome, StepResult
from core.topology import Topology, endpoint_extra_attr, option_extra_attr
from handlers.step import cloud_step, failed, role_session
from handlers.task_lookup import job_detail, the_task
from handlers.topology import SIDES, TopologyFailed, read_topologies
from storage.models import MigrationRequest

STEP = "configure_task"
CONFIGURABLE = frozenset({"created", "checkPass", "checkNotPass"})
CREDENTIALS_MARGIN = 600.0
BEIJING = timezone(timedelta(hours=8))
"""ExpectRunTime's zone as DTS documents it ("北京时间")."""
"""Seconds of life the credentials must still have for DTS to check or start with them."""


def migrate_objects(objects: str) -> dict[str, Any]:
    """`all` or `db,db.table` as DTS's DatabaseTable (whole databases, or chosen tables of a database)."""
    if objects.strip() == "all":
        return {"ObjectMode": "all"}
    databases: dict[str, list[str]] = {}
    for item in (part.strip() for part in objects.split(",") if part.strip()):
        db, _, table = item.partition(".")
        databases.setdefault(db, []).append(table)
    return {"ObjectMode": "partial", "Databases": [
        {"DbName": db, "DBMode": "all"} if "" in tables else
        {"DbName": db, "DBMode": "partial", "TableMode": "partial", "Tables": [{"TableName": t} for t in tables]}
        for db, tables in databases.items()
    ]}


def _node(detail_side: dict[str, Any]) -> dict[str, Any]:
    info = detail_side.get("Info") or [{}]
    return info[0]


def recorded_topologies(request: MigrationRequest) -> dict[str, Topology] | None:
    """Both endpoints' topologies as last read (facts), or None when they were not recorded."""
    shapes = {"source": Topology.of(request.facts.source_topology),
              "target": Topology.of(request.facts.target_topology)}
    return None if None in shapes.values() else {side: shape for side, shape in shapes.items() if shape}


def already_configured(detail: dict[str, Any], request: MigrationRequest) -> bool:
    """Whether the task already points at this request's source (through its role) and target, with the
    topologies recorded for them."""
    src, dst = _node(detail.get("SrcInfo") or {}), _node(detail.get("DstInfo") or {})
    option = detail.get("MigrateOption") or {}
    shapes = recorded_topologies(request)
    same_shape = shapes is None or all(
        (detail.get(key) or {}).get("NodeType") == shapes[side].node_type
        for side, key in zip(SIDES, ("SrcInfo", "DstInfo"), strict=True))
    return (src.get("InstanceId") == request.source_instance and src.get("AccountMode") == "other"
            and src.get("Account") == request.source_uin and src.get("AccountRole") == request.role_name
            and dst.get("InstanceId") == request.target_instance
            and option.get("MigrateType") == request.migrate_type and same_shape)


@cloud_step(STEP)
def configure_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """ModifyMigrationJob unless the task is already configured for this request (or past configuration)."""
    dts, job_id = the_task(request, clients)
    detail = job_detail(dts, job_id)
    expired = credentials_expired(request, clients)
    if detail.get("Status") not in CONFIGURABLE or (already_configured(detail, request) and not expired):
        return StepResult(Outcome.DONE, facts={"job_id": job_id},
                          notice=_("DTS task `{job_id}` is already configured for this request.", job_id=job_id))
    try:
        facts = send_configuration(request, clients, dts, job_id, renew=expired)
    except TopologyFailed as unknown:
        return failed(unknown.diagnosis)
    return StepResult(Outcome.DONE, facts=facts, notice=(
        _("DTS task `{job_id}` configured: `{source}` in {account} through role `{role}` → `{target}`; "
          "{migrate_type}, objects {objects}.", job_id=job_id, source=request.source_instance,
          account=request.source_account, role=request.role_name, target=request.target_instance,
          migrate_type=request.migrate_type, objects=request.objects)))


def credentials_expired(request: MigrationRequest, clients: CloudClients) -> bool:
    """Whether the temporary credentials last given to DTS are older than their life allows (less the margin)."""
    issued = request.facts.credentials_issued_at
    return issued is not None and clients.clock() - float(issued) > SESSION_SECONDS - CREDENTIALS_MARGIN


def send_configuration(request: MigrationRequest, clients: CloudClients, dts: Api, job_id: str,
                       renew: bool = False, shapes: dict[str, Topology] | None = None,
                       fresh_logins: bool = False) -> dict[str, Any]:
    """Assume the role (again when `renew`) and ModifyMigrationJob with its credentials, the database logins
    (read again from Secrets Manager when `fresh_logins`) and the endpoints' topologies (`shapes`, else as
    recorded, else read now: TopologyFailed); the facts to keep."""
    src = clients.logins.login(request.source_instance, fresh=fresh_logins)
    dst = clients.logins.login(request.target_instance, fresh=fresh_logins)
    engine = db_kind(request.db_type)
    issued = clients.clock()
    session = role_session(request, clients, renew=renew)
    shapes = shapes or recorded_topologies(request) or read_topologies(request, clients, session, STEP)
    auto_retry = clients.settings.dts.auto_retry_minutes
    dts.call("ModifyMigrationJob", {
        "JobId": job_id, **run_mode(request), "AutoRetryTimeRangeMinutes": auto_retry,
        "MigrateOption": migrate_option(request, engine, configured_limits(
            clients.settings, request.source_account, request.target_account)),
        "SrcInfo": endpoint_info(request.source_region, engine, shapes["source"], {
            "InstanceId": request.source_instance, "AccountMode": "other",
            "Account": request.source_uin, "AccountRole": request.role_name,
            "User": src.user, "Password": src.password.get_secret_value(), **session.params()}),
        "DstInfo": endpoint_info(request.target_region, engine, shapes["target"], {
            "InstanceId": request.target_instance, "AccountMode": "self",
            "User": dst.user, "Password": dst.password.get_secret_value()}),
    })
    return {"job_id": job_id, "credentials_issued_at": issued, "auto_retry_minutes": auto_retry,
            **{f"{side}_topology": shape.fact() for side, shape in shapes.items()}}


def run_mode(request: MigrationRequest) -> dict[str, str]:
    """RunMode immediate, or timed with ExpectRunTime at the request's `start_at` as DTS documents it: "yyyy-mm-dd
    hh:mm:ss（北京时间）" (without DateTimeISOFormat)."""
    start = cutover.parse_time(request.start_at)
    if start is None:
        return {"RunMode": "immediate"}
    return {"RunMode": "timed", "ExpectRunTime": start.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")}


def migrate_option(request: MigrationRequest, engine: DbKind,
                   limits: Mapping[str, int] | None = None) -> dict[str, Any]:
    """MigrateOption: the objects and migrate type, the target read-only while migrating when asked
    (IsDstReadOnly, MySQL only), the Redis family's write mode (core.topology) and the configured rate limits."""
    option: dict[str, Any] = {"DatabaseTable": migrate_objects(request.objects), "MigrateType": request.migrate_type}
    if request.read_only_target == "yes":
        option["IsDstReadOnly"] = True
    extra = option_extra_attr(engine, request.write_mode)
    if extra:
        option["ExtraAttr"] = extra
    if limits:
        option["RateLimit"] = dict(limits)  # accounts[].rate_limit (core.control.configured_limits)
    return option


def endpoint_info(region: str, engine: DbKind, shape: Topology, info: dict[str, Any]) -> dict[str, Any]:
    """One DBEndpointInfo of a TencentDB instance (AccessType cdb): its NodeType and the engine's ExtraAttr."""
    endpoint = {"Region": region, "AccessType": "cdb", "DatabaseType": engine.database_type,
                "NodeType": shape.node_type, "Info": [info]}
    extra = endpoint_extra_attr(engine)
    if extra:
        endpoint["ExtraAttr"] = extra
    return endpoint

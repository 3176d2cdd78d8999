"""Configure the DTS task (guide, "Creating Migration Task" steps 2-5): the cross-account source reached
through the role (AccessType cdb, AccountMode other, Account, AccountRole, temporary credentials), the target
in the task's own account, the migrate type and objects. Already configured the same way: nothing is sent.
"""

from __future__ import annotations

from typing import Any

from core.cloud import CloudClients
from core.engines import engine
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, failed, role_session, target_dts
from handlers.task_lookup import job_detail, no_task, task_id
from storage.models import MigrationRequest

STEP = "configure_task"
CONFIGURABLE = frozenset({"created", "checkPass", "checkNotPass"})


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


def already_configured(detail: dict[str, Any], request: MigrationRequest) -> bool:
    """Whether the task already points at this request's source (through its role) and target."""
    src, dst = _node(detail.get("SrcInfo") or {}), _node(detail.get("DstInfo") or {})
    option = detail.get("MigrateOption") or {}
    return (src.get("InstanceId") == request.source_instance and src.get("AccountMode") == "other"
            and src.get("Account") == request.source_uin and src.get("AccountRole") == request.role_name
            and dst.get("InstanceId") == request.target_instance
            and option.get("MigrateType") == request.migrate_type)


@cloud_step(STEP)
def configure_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """ModifyMigrationJob unless the task is already configured for this request (or past configuration)."""
    dts = target_dts(request, clients)
    job_id = task_id(request, dts)
    if job_id is None:
        return no_task(STEP)
    logins = clients.settings.databases
    for instance in (request.source_instance, request.target_instance):
        if instance not in logins:
            return failed(Diagnosis(
                "MissingDatabaseLogin", f"{STEP}: no database login for `{instance}`",
                "DTS needs a database account and password for each side of the migration.",
                f"Add `databases.{instance}` (user, password) to app.yaml, restart the bot, then retry."))
    detail = job_detail(dts, job_id)
    if detail.get("Status") not in CONFIGURABLE or already_configured(detail, request):
        return StepResult(Outcome.DONE, facts={"job_id": job_id},
                          notice=f"DTS task `{job_id}` is already configured for this request.")
    db = engine(request.db_type).database_type
    session = role_session(request, clients)
    src, dst = logins[request.source_instance], logins[request.target_instance]
    dts.call("ModifyMigrationJob", {
        "JobId": job_id, "RunMode": "immediate",
        "MigrateOption": {"DatabaseTable": migrate_objects(request.objects), "MigrateType": request.migrate_type},
        "SrcInfo": {"Region": request.source_region, "AccessType": "cdb", "DatabaseType": db,
                    "NodeType": "simple", "Info": [{
                        "InstanceId": request.source_instance, "AccountMode": "other",
                        "Account": request.source_uin, "AccountRole": request.role_name,
                        "User": src.user, "Password": src.password.get_secret_value(), **session.params()}]},
        "DstInfo": {"Region": request.target_region, "AccessType": "cdb", "DatabaseType": db,
                    "NodeType": "simple", "Info": [{
                        "InstanceId": request.target_instance, "AccountMode": "self",
                        "User": dst.user, "Password": dst.password.get_secret_value()}]},
    })
    return StepResult(Outcome.DONE, facts={"job_id": job_id}, notice=(
        f"DTS task `{job_id}` configured: `{request.source_instance}` in {request.source_account} through role "
        f"`{request.role_name}` → `{request.target_instance}`; {request.migrate_type}, objects {request.objects}."))

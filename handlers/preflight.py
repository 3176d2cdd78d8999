"""Preflight (guide, "Creating Migration Task" step 4): prove the cross-account chain before anything is
bought — the executor assumes the source role, and DTS lists the source instance with those credentials.
"""

from __future__ import annotations

from core import policies
from core.cloud import CloudClients
from core.db_kinds import db_kind
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, failed, role_session
from storage.models import MigrationRequest

STEP = "preflight"


@cloud_step(STEP)
def preflight(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """AssumeRole with the external ID, then DescribeMigrateDBInstances (AccountMode=other) must list the source."""
    session = role_session(request, clients)
    dts = clients.dts(request.target_account, request.source_region, request.executor)
    body = dts.call("DescribeMigrateDBInstances", {
        "DatabaseType": db_kind(request.db_type).database_type, "MigrateRole": "src",
        "InstanceId": request.source_instance, "AccountMode": "other", "Offset": 0, "Limit": 20,
        **session.params(),
    })
    listed = [i for i in body.get("Instances") or [] if i.get("InstanceId") == request.source_instance]
    rid = body.get("RequestId")
    if not listed:
        return failed(Diagnosis(
            "InstanceNotFound",
            f"{STEP}: instance `{request.source_instance}` is not listed in {request.source_account} "
            f"({request.source_uin}), region {request.source_region}",
            "The database instance does not exist in that account and region (or is not of this engine).",
            "Check the instance ID, region and db_type in the request.", rid,
        ))
    if int(listed[0].get("Usable", 1)) != 1:
        hint = listed[0].get("Hint") or "DTS reports it cannot be used as a source"
        return failed(Diagnosis(
            "InstanceNotUsable", f"{STEP}: instance `{request.source_instance}` is not usable: {hint}",
            "DTS cannot migrate from this instance in its current state.",
            "Fix what the hint says (instance status, version, network), then retry.", rid,
        ))
    who = request.target_account if request.executor == "root" else f"sub-account {request.executor}"
    return StepResult(Outcome.DONE, notice=(
        f"Preflight passed: {who} assumed `{policies.role_arn(request.source_uin, request.role_name)}` "
        f"(external ID `{policies.mask(request.external_id)}`) and DTS lists `{request.source_instance}`."))

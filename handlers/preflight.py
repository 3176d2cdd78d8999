"""Preflight (guide, "Creating Migration Task" step 4): prove the cross-account chain before anything is
bought — the executor assumes the source role, and DTS lists the source instance with those credentials — and
read both instances' topology (handlers.topology), which decides the task's NodeType: an instance whose
topology cannot be decided fails here, before money is spent, not at DTS's check.
"""

from __future__ import annotations

from typing import Any

from core import policies
from core.cloud import CloudClients
from core.db_kinds import db_kind
from core.i18n import _
from core.steps import Diagnosis, Outcome, StepResult
from handlers.step import cloud_step, failed, role_session
from handlers.topology import TopologyFailed, read_topologies
from storage.models import MigrationRequest

STEP = "preflight"


@cloud_step(STEP)
def preflight(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """AssumeRole with the external ID, then DescribeMigrateDBInstances (AccountMode=other) must list the source,
    and (AccountMode=self) the target in the target account: no task is bought for an instance of another
    account, whose database login the configuration would otherwise hand to it."""
    session = role_session(request, clients)
    engine = db_kind(request.db_type).database_type
    source_dts = clients.dts(request.target_account, request.source_region, request.executor)
    body = source_dts.call("DescribeMigrateDBInstances", {
        "DatabaseType": engine, "MigrateRole": "src", "InstanceId": request.source_instance,
        "AccountMode": "other", "Offset": 0, "Limit": 20, **session.params(),
    })
    unusable = _unlisted(body, request.source_instance, request.source_account, request.source_uin,
                         request.source_region, _("DTS cannot migrate from this instance in its current state."))
    if unusable is not None:
        return failed(unusable)
    target_dts = clients.dts(request.target_account, request.target_region, request.executor)
    body = target_dts.call("DescribeMigrateDBInstances", {
        "DatabaseType": engine, "MigrateRole": "dst", "InstanceId": request.target_instance,
        "AccountMode": "self", "Offset": 0, "Limit": 20,
    })
    unusable = _unlisted(body, request.target_instance, request.target_account, request.target_uin,
                         request.target_region, _("DTS cannot migrate into this instance in its current state."))
    if unusable is not None:
        return failed(unusable)
    try:
        shapes = read_topologies(request, clients, session, STEP)
    except TopologyFailed as unknown:
        return failed(unknown.diagnosis)
    who = (request.target_account if request.executor == "root"
           else _("sub-account {uin}", uin=request.executor))
    notice = _("Preflight passed: {who} assumed `{arn}` (external ID `{external_id}`) and DTS lists `{instance}`.",
               who=who, arn=policies.role_arn(request.source_uin, request.role_name),
               external_id=policies.mask(request.external_id), instance=request.source_instance)
    if shapes["source"].read:  # an engine with a topology to read (MongoDB, Redis, Tendis)
        notice += "\n" + _("Topology: source {source}; target {target}.", source=shapes["source"].said(),
                            target=shapes["target"].said())
    return StepResult(Outcome.DONE, notice=notice,
                      facts={f"{side}_topology": shape.fact() for side, shape in shapes.items()})


def _unlisted(body: dict[str, Any], instance: str, account: str, uin: str, region: str,
              not_usable: str) -> Diagnosis | None:
    """Why DTS's instance list (`body`) does not offer `instance` of `account` in `region`, or None when it does."""
    listed = [i for i in body.get("Instances") or [] if i.get("InstanceId") == instance]
    rid = body.get("RequestId")
    if not listed:
        return Diagnosis(
            "InstanceNotFound",
            f"{STEP}: " + _("instance `{instance}` is not listed in {account} ({uin}), region {region}",
                            instance=instance, account=account, uin=uin, region=region),
            _("The database instance does not exist in that account and region (or is not of this engine)."),
            _("Check the instance ID, region and db_type in the request."), rid,
        )
    if int(listed[0].get("Usable", 1)) != 1:
        hint = listed[0].get("Hint") or not_usable  # DTS's hint as given
        return Diagnosis(
            "InstanceNotUsable",
            f"{STEP}: " + _("instance `{instance}` is not usable: {hint}", instance=instance, hint=hint),
            not_usable, _("Fix what the hint says (instance status, version, network), then retry."), rid,
        )
    return None

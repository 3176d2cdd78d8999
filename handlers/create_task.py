"""Buy the DTS task (guide, "Creating Migration Task" step 1), at most once per request: the task carries the
request id as a tag, and the purchase happens only when no task with that tag exists. A purchase is never
repeated blindly (core.cloud.NOT_REPEATABLE): after a lost answer the next run finds the task by its tag.
"""

from __future__ import annotations

from core.cloud import CloudClients
from core.db_kinds import db_kind
from core.i18n import _
from core.plan import DTS_INSTANCE_CLASS
from core.steps import Outcome, StepResult
from handlers.step import cloud_step, target_dts
from handlers.task_lookup import REQUEST_TAG, tagged_task
from storage.models import MigrationRequest

STEP = "create_task"


@cloud_step(STEP)
def create_task(request: MigrationRequest, clients: CloudClients) -> StepResult:
    """Find the request's task by tag, else CreateMigrationService; facts: job_id."""
    dts = target_dts(request, clients)
    job_id = tagged_task(dts, request.id)
    if job_id is not None:
        return StepResult(Outcome.DONE, facts={"job_id": job_id},
                          notice=_("DTS task `{job_id}` found in {account} (bought earlier).", job_id=job_id,
                                   account=request.target_account))
    for instance in (request.source_instance, request.target_instance):  # nothing is bought without both logins
        clients.logins.login(instance)
    db = db_kind(request.db_type).database_type
    body = dts.call("CreateMigrationService", {
        "SrcDatabaseType": db, "DstDatabaseType": db,
        "SrcRegion": request.source_region, "DstRegion": request.target_region,
        "InstanceClass": DTS_INSTANCE_CLASS, "Count": 1, "JobName": f"dtsbot-{request.id}",
        "Tags": [{"TagKey": REQUEST_TAG, "TagValue": request.id}],
    })
    job_id = body["JobIds"][0]
    return StepResult(Outcome.DONE, facts={"job_id": job_id},
                      notice=_("DTS task `{job_id}` bought in {account} ({engine}, {instance_class}, {region}).",
                               job_id=job_id, account=request.target_account, engine=db_kind(request.db_type).label,
                               instance_class=DTS_INSTANCE_CLASS, region=request.target_region))

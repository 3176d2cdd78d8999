"""Read each endpoint's topology from the instance itself (core.topology decides the NodeType from it).

The source is read through the source role's temporary credentials — the role carries the engine's read-only
preset (core.policies), which allows MongoDB's and Redis' Describe* — and the target with the target account's
own keys. The preflight reads both before anything is bought; a re-verification reads them again, since an
instance may change between the plan and the check. A read that fails, or a value without a decision, is a
diagnosis (`TopologyFailed`): the bot never sends a NodeType it guessed.
"""

from __future__ import annotations

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import topology
from core.cloud import CloudClients, RoleSession
from core.db_kinds import DbKind, db_kind
from core.diagnosis import is_transient
from core.i18n import N_, _
from core.steps import Diagnosis
from core.topology import Topology, Undecided
from storage.models import MigrationRequest

SIDES = ("source", "target")
SIDE_WORDS = {"source": N_("the source"), "target": N_("the target")}
READS: dict[str, tuple[str, str, str]] = {
    "mongodb": ("DescribeDBInstances", "InstanceDetails", "InstanceIds"),
    "redis": ("DescribeInstances", "InstanceSet", "InstanceIds"),
}
"""Engine API → (action, the answer's list of instances, the parameter naming the instance ids)."""


class TopologyFailed(Exception):
    """The topology of one endpoint could not be read or decided; `diagnosis` says what, why and the fix."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.what)
        self.diagnosis = diagnosis


def has_topology(request: MigrationRequest) -> bool:
    """Whether the request's engine has a topology to read (MongoDB, Redis, Tendis), else always `simple`."""
    return db_kind(request.db_type).topology != "none"


def read_topologies(request: MigrationRequest, clients: CloudClients, session: RoleSession,
                    step: str) -> dict[str, Topology]:
    """Both endpoints' topologies, {"source": ..., "target": ...}; TopologyFailed when one cannot be decided."""
    return {side: read_topology(request, clients, side, session, step) for side in SIDES}


def read_topology(request: MigrationRequest, clients: CloudClients, side: str, session: RoleSession,
                  step: str) -> Topology:
    """One endpoint's topology: nothing to read for one-endpoint engines, else the engine's Describe API."""
    engine = db_kind(request.db_type)
    if engine.topology == "none":
        return topology.ONE_ENDPOINT
    instance = request.source_instance if side == "source" else request.target_instance
    if side == "source":
        api = clients.as_role(session, request.source_account, engine.topology, request.source_region)
    else:
        api = clients.reader(request.target_account, engine.topology, request.target_region)
    action, listed, ids = READS[engine.topology]
    try:
        body = api.call(action, {ids: [instance]})
    except TencentCloudSDKException as error:
        if is_transient(error):
            raise
        raise TopologyFailed(_refused(request, engine, side, action, error, step)) from error
    found = [i for i in body.get(listed) or [] if i.get("InstanceId") == instance]
    try:
        if not found:
            raise Undecided(_("{engine}'s {action} does not list `{instance}`", engine=engine.label, action=action,
                              instance=instance),
                            _("The instance is not in that account and region, or not of this engine."))
        return (topology.from_mongodb(found[0]) if engine.topology == "mongodb"
                else topology.from_redis(found[0], engine))
    except Undecided as undecided:
        raise TopologyFailed(_undecided(request, engine, side, undecided, step, body.get("RequestId"))) from None


def _where(request: MigrationRequest, side: str) -> dict[str, str]:
    """The endpoint's instance, account and region, as the messages name them."""
    if side == "source":
        return {"instance": request.source_instance, "account": request.source_account,
                "region": request.source_region}
    return {"instance": request.target_instance, "account": request.target_account, "region": request.target_region}


def _undecided(request: MigrationRequest, engine: DbKind, side: str, undecided: Undecided, step: str,
               request_id: str | None) -> Diagnosis:
    where = _where(request, side)
    return Diagnosis(
        "TopologyUndecided",
        f"{step}: " + _("the topology of {side} `{instance}` cannot be decided: {what}", side=_(SIDE_WORDS[side]),
                        instance=where["instance"], what=undecided.what),
        undecided.why + " " + _("DTS needs the instance's NodeType, and the bot never guesses one."),
        _("Check `{instance}` in the {engine} console of {account} ({region}). An instance DTS does not migrate "
          "needs another one: cancel this request and open a new one. A value the API reference does not document "
          "needs a row in dtsbot's core/topology.py first.", engine=engine.label, **where),
        request_id,
    )


def _refused(request: MigrationRequest, engine: DbKind, side: str, action: str, error: TencentCloudSDKException,
             step: str) -> Diagnosis:
    code, message = str(error.get_code() or ""), str(error.get_message() or "")
    where = _where(request, side)
    what = f"{step}: " + _("could not read the topology of {side} `{instance}` in {account}: {message} [{code}]",
                           side=_(SIDE_WORDS[side]), instance=where["instance"], account=where["account"], message=message,
                           code=code)
    permission = f"{engine.topology}:{action}"
    denied = code.startswith(("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation"))
    if denied and side == "source":
        why = _("The role `{role}` may not call `{permission}`: it lacks {engine}'s read-only policy `{policy}`.",
                role=request.role_name, permission=permission, engine=engine.label, policy=engine.read_only_policy)
        fix = _("Attach `{policy}` to the role in {account} (the bot does it for the roles it creates; a role a "
                "person made needs its owner), then retry.", policy=engine.read_only_policy, account=where["account"])
    elif denied:
        why = _("The keys of {account} in app.yaml may not call `{permission}`.", account=where["account"],
                permission=permission)
        fix = _("Allow `{permission}` to those keys (docs/setup.md, \"The accounts\"), then retry.", permission=permission)
    else:
        why = _("{engine}'s {action} refused to describe the instance.", engine=engine.label, action=action)
        fix = _("Fix what the message says, then retry.")
    return Diagnosis(code, what, why, fix, error.get_request_id() or None)

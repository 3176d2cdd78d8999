"""The plan of a request: exactly what the bot will create and buy once both owners approve.

Built from `core.policies` and `core.db_kinds`, the same functions the cloud steps call, so the plan shown to
approvers and the calls the bot makes cannot drift apart. Nothing here is secret: the external ID is masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core import db_kinds, policies, topology
from core.config import Settings
from core.validation import ROOT


class PlannedRequest(Protocol):
    """The request fields a plan needs (storage.models.MigrationRequest satisfies it)."""

    source_account: str
    source_uin: str
    source_region: str
    source_instance: str
    target_account: str
    target_uin: str
    target_region: str
    target_instance: str
    db_type: str
    role_name: str
    external_id: str | None
    executor: str
    migrate_type: str
    objects: str
    write_mode: str | None


@dataclass(frozen=True)
class SubaccountGrant:
    """Step 4: the custom policy letting the executing target sub-account assume the role."""

    subaccount_uin: str
    policy_name: str
    resource: str
    document: dict[str, Any]


@dataclass(frozen=True)
class TaskSpec:
    """Step 6: the DTS task bought and configured in the target account."""

    database_type: str
    engine_label: str
    source_region: str
    source_instance: str
    target_region: str
    target_instance: str
    migrate_type: str
    objects: str
    instance_class: str
    executor: str
    auto_retry_minutes: int = 0
    """How long DTS retries a recoverable error itself (`AutoRetryTimeRangeMinutes`, config dts.auto_retry_minutes)."""
    write_mode: str | None = None
    """Redis' DstWriteMode, always sent for the Redis family (core.topology); None for the other engines."""
    start_at: str | None = None
    """When DTS starts the task (RunMode timed); None: at once."""
    cutover_at: str | None = None
    """The agreed cutover window; None: none."""
    read_only_target: bool = False
    """The target is read-only while DTS migrates (IsDstReadOnly)."""


@dataclass(frozen=True)
class Plan:
    """What approvers approve: the role in the source account, the grant, the DTS task."""

    source_account: str
    source_uin: str
    target_account: str
    target_uin: str
    role_name: str
    role_arn: str
    trusted_principal: str
    external_id_masked: str
    """The trust policy's `sts:external_id` condition, masked; "(none)" when the role has no condition."""
    policies: tuple[str, ...]
    grant: SubaccountGrant | None
    task: TaskSpec
    allowlisting_note: str | None
    scope_notes: tuple[str, ...] = ()
    """The engine is outside the guide's scope (dts.experimental_engines), or its read-only policy is a guess."""
    role_found: dict[str, Any] | None = None
    """What CAM said about the role when the plan was made (handlers.role_check); None: not read. Before the
    source side approved, only whether it exists (`before_consent`)."""


DTS_INSTANCE_CLASS = "medium"
"""The DTS task size bought (CreateMigrationService InstanceClass): the API reference says links that are not
billed accept only `medium` (SDK dts/v20211206 CreateMigrationServiceRequest.InstanceClass)."""


EXISTING_ROLE = ("dtsbot", "person")
"""`role_plan` kinds of a role that exists (handlers.role_check)."""


def before_consent(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the plan may say of the CAM read before the source side approved: whether the role is created or an
    existing one is used ({"role": "existing"}), nothing of its trust policy, policies or maker; those go to the
    source approvers alone (a private notice)."""
    if not found:
        return found
    kind = found.get("role")
    return {"role": "existing" if kind in EXISTING_ROLE else kind}


def plan_for(request: PlannedRequest, settings: Settings, *, source_approved: bool = False) -> Plan:
    """The plan for `request`: role, trust principal, policies, optional sub-account grant, DTS task spec.
    `source_approved`: the source side approved this revision, so the plan may say what CAM said of the role."""
    engine = db_kinds.db_kind(request.db_type)
    target = settings.account(request.target_account)
    grant = None
    if request.executor != ROOT:
        grant = SubaccountGrant(
            subaccount_uin=request.executor,
            policy_name=policies.grant_policy_name(request.source_uin, request.role_name),
            resource=policies.role_arn(request.source_uin, request.role_name),
            document=policies.subaccount_grant(request.source_uin, request.role_name),
        )
    return Plan(
        source_account=request.source_account,
        source_uin=request.source_uin,
        target_account=target.name,
        target_uin=request.target_uin,
        role_name=request.role_name,
        role_arn=policies.role_arn(request.source_uin, request.role_name),
        trusted_principal=policies.trusted_principal(request.target_uin),
        external_id_masked=policies.mask(request.external_id),
        policies=policies.source_policies(request.db_type),
        grant=grant,
        task=TaskSpec(
            database_type=engine.database_type,
            engine_label=engine.label,
            source_region=request.source_region,
            source_instance=request.source_instance,
            target_region=request.target_region,
            target_instance=request.target_instance,
            migrate_type=request.migrate_type,
            objects=request.objects,
            instance_class=DTS_INSTANCE_CLASS,
            executor=request.executor,
            auto_retry_minutes=settings.dts.auto_retry_minutes,
            write_mode=(request.write_mode or topology.DEFAULT_WRITE_MODE
                        if topology.takes_write_mode(engine) else None),
            start_at=getattr(request, "start_at", None), cutover_at=getattr(request, "cutover_at", None),
            read_only_target=getattr(request, "read_only_target", None) == "yes",
        ),
        allowlisting_note=db_kinds.allowlisting_note(request.db_type),
        scope_notes=db_kinds.scope_notes(request.db_type),
        role_found=_role_found(request, source_approved),
    )


def _role_found(request: PlannedRequest, source_approved: bool) -> dict[str, Any] | None:
    found = request.facts.role_plan if hasattr(request, "facts") else None
    return found if source_approved else before_consent(found)

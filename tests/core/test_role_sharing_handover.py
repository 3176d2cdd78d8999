"""A shared role or grant kept for another request is that request's to delete: the real CAM steps on the sandbox
(DTS steps scripted), two replicas on one database. Found by an adversarial review: the request a role was kept
for could be one that never used it (cancelled, or refused during its authorize step), and its revoke then left
the role, tagged with the request that made it, open for good."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from engineflow import FIELDS, add_approved, fast_settings, load
from sqlalchemy.engine import Engine
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import CloudClients
from core.engine import WorkflowEngine, record_cloud_call
from core.requests import MigrationRequests
from core.retry import Backoff
from core.steps import Outcome, StepResult
from core.workflow import STEP_STATES
from core.workflow import State as S
from handlers import STEPS
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually

CAM_STEPS = {S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT, S.REVOKING_ACCESS, S.CANCELLING}
GRANT = policies.grant_policy_name(FIELDS["source_uin"], FIELDS["role_name"])


@dataclass
class World:
    sandbox: TencentCloudSandbox
    a: WorkflowEngine
    b: WorkflowEngine
    requests: MigrationRequests
    held: set[str] = field(default_factory=set)
    """Requests whose task keeps running until removed from here."""
    hooks: dict[tuple[str, S], Callable[[object], StepResult | None]] = field(default_factory=dict)
    """Run once, instead of or before the step of (request, state)."""

    def role_exists(self) -> bool:
        return self.sandbox.world.cam(FIELDS["source_uin"]).find_role(FIELDS["role_name"]) is not None

    def grant_exists(self) -> bool:
        return GRANT in [p.name for p in self.sandbox.world.cam(FIELDS["target_uin"]).all_policies()]


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    with TencentCloudSandbox(default_world(speed=100.0)) as sandbox:
        settings = fast_settings({"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
        clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
        table = {state: _step(state, lambda: made) for state in STEP_STATES}
        a, b = (WorkflowEngine(engine, settings, table, clients, owner, retry=Backoff(0.01, 0.05, 3))
                for owner in "ab")
        made = World(sandbox, a, b, MigrationRequests(engine, settings, run_now=lambda _id: None))
        yield made
        a.close()
        b.close()


def _step(state: S, world: Callable[[], World]) -> Callable:
    def run(request, clients):
        hook = world().hooks.pop((request.id, state), None)
        if hook is not None and (outcome := hook(request)) is not None:
            return outcome
        if state in CAM_STEPS:
            return STEPS[state](request, clients)
        if state is S.RUNNING and request.id in world().held:
            return StepResult(Outcome.WAIT, retry_after=0.01)
        return StepResult(Outcome.DONE, facts={"job_id": f"dts-{request.id}", "progress": 100})
    return run


def drive(workflow: WorkflowEngine, db: Engine, request_id: str, until: str) -> None:
    eventually(lambda: load(db, request_id).state == until or (workflow.tick() and False), 30, until,
               interval=0.01)


@pytest.mark.parametrize("how", ["cancelled during its authorize step", "refused: another external ID"])
def test_a_role_is_not_left_open_for_a_request_that_never_uses_it(engine, world, how):
    """The maker ends while a late request's first authorize step runs: it waits to see whether that request
    uses the role. Refused (another external ID), the late request lets it go and the maker deletes the role;
    cancelled, the late request ends first and deletes the role the maker kept for it."""
    [maker] = add_approved(engine)
    world.held.add(maker)
    drive(world.a, engine, maker, "running")
    refused = how.startswith("refused")
    [late] = add_approved(engine, **({"external_id": "dtsbot-other-external-id-98765"} if refused else {}))

    def meanwhile(_request: object) -> None:  # the late request's authorize step has begun: the maker ends
        world.held.discard(maker)
        drive(world.b, engine, maker, "revoking_access")
        for _ in range(3):
            world.b.tick()
        assert load(engine, maker).state == "revoking_access" and world.role_exists()  # it waits
        if not refused:
            assert world.requests.cancel(late, "U0REQUESTER").ok

    world.hooks[(late, S.AUTHORIZING_SOURCE)] = meanwhile
    drive(world.a, engine, late, "failed" if refused else "cancelled")
    drive(world.b, engine, maker, "succeeded")
    assert not world.role_exists()


def test_a_grant_kept_for_a_request_that_failed_before_its_grant_is_deleted_when_that_request_ends(engine, world):
    [first] = add_approved(engine, executor="100000000021")
    world.held.add(first)
    drive(world.a, engine, first, "running")
    [second] = add_approved(engine, executor="100000000021")

    def denied(_request: object) -> None:
        raise TencentCloudSDKException("AuthFailure.UnauthorizedOperation", "no", "req-1")

    world.hooks[(second, S.GRANTING_SUBACCOUNT)] = denied
    drive(world.a, engine, second, "failed")
    world.held.discard(first)
    drive(world.a, engine, first, "succeeded")  # keeps the role and the grant for the failed request
    assert world.role_exists() and world.grant_exists()
    assert world.requests.cancel(second, "U0REQUESTER").ok
    drive(world.a, engine, second, "cancelled")
    assert not world.role_exists() and not world.grant_exists()

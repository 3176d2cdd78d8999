"""Crash-resume: for every cloud-changing call of the flow, the server applies it and the answer is lost
("commit then drop"); running the flow again must end with exactly one of everything and reach running."""

from __future__ import annotations

import pytest
from stepflow import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN, run_flow
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core import policies
from core.cloud import NOT_REPEATABLE
from handlers import STEPS
from sandbox.tencentcloud.dts.models import dts_backend

GRANT = policies.grant_policy_name(SOURCE_UIN, "DTS-role")
CASES = [
    # (action, executor, policy the source role already has before the flow starts)
    ("CreateRole", "root", None),
    ("AttachRolePolicy", "root", None),  # the first attachment (QcloudDTSReadOnlyAccess)
    ("AttachRolePolicy", "root", "QcloudDTSReadOnlyAccess"),  # so the lost one is QcloudCDBReadOnlyAccess
    ("CreatePolicy", EXECUTOR_UIN, None),
    ("AttachUserPolicy", EXECUTOR_UIN, None),
    ("CreateMigrationService", "root", None),
    ("ModifyMigrationJob", "root", None),
    ("CreateMigrateCheckJob", "root", None),
    ("StartMigrateJob", "root", None),
]


@pytest.mark.parametrize(("action", "executor", "preattached"), CASES,
                         ids=[f"{a}-{e}-{p or 'none'}" for a, e, p in CASES])
def test_lost_answer_then_rerun_makes_no_duplicates(sandbox, clients, make_request, action, executor,
                                                    preattached):
    request = make_request(executor=executor)
    if preattached:
        cam = clients.cam("shop-prod")
        cam.call("CreateRole", {"RoleName": "DTS-role", "PolicyDocument": policies.document(  # the bot's earlier run
            policies.trust_policy(TARGET_UIN, request.external_id)), "Tags": policies.owner_tags(request.id)})
        cam.call("AttachRolePolicy", {"AttachRoleName": "DTS-role", "PolicyName": preattached})
    sandbox.faults.add(action, "commit_then_drop", count=1)

    crashes = 0
    while True:
        try:
            run_flow(request, clients, until="running")
            break
        except TencentCloudSDKException as error:
            assert error.get_code() == "ClientNetworkError"
            crashes += 1
            assert crashes < 3

    assert request.state == "running"
    # creations/purchases/starts surface the lost answer; idempotent writes are repeated by the retry policy
    assert crashes == (1 if action in NOT_REPEATABLE else 0)
    assert sandbox.faults.active() == []
    assert "committed-dropped" in [c.outcome for c in sandbox.calls.of(action)]
    world = sandbox.world
    assert list(world.cam(SOURCE_UIN).roles) == ["DTS-role"]
    role = world.cam(SOURCE_UIN).roles["DTS-role"]
    assert len(role.attached) == 2
    assert world.role_policy_names(SOURCE_UIN, "DTS-role") == {"QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"}
    assert role.tags == policies.owner_tags(request.id)  # the cloud's own record survives the lost answer
    again = STEPS["authorizing_source"](request, clients)  # a re-run records the same ownership, changes nothing
    owned = {(o.relation, o.kind, o.name) for o in again.owned}
    assert {("created", "role", "DTS-role"), ("uses", "role", "DTS-role"),
            ("attached", "role_policy", "QcloudDTSReadOnlyAccess"),
            ("attached", "role_policy", "QcloudCDBReadOnlyAccess")} <= owned
    custom = [p for p in world.cam(TARGET_UIN).policies.values() if p.name == GRANT]
    assert len(custom) == (1 if executor != "root" else 0)
    if executor != "root":
        assert [p.name for p, _ in world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)] == [GRANT]
    jobs = [j for j in dts_backend(world).jobs.values() if j.owner_uin == TARGET_UIN]
    assert [j.job_id for j in jobs] == [request.job_id]
    assert jobs[0].status(world.clock.now()) in ("readyRun", "running", "readyComplete")
    bought = [c for c in sandbox.calls.of("CreateMigrationService") if c.outcome in ("ok", "committed-dropped")]
    assert len(bought) == 1


def test_network_error_on_a_purchase_is_not_retried_blindly(sandbox, clients, calls, request_):
    sandbox.faults.add("CreateMigrationService", "drop", count=1)
    run_flow(request_, clients, until="creating_task")
    with pytest.raises(TencentCloudSDKException):
        run_flow(request_, clients, until="configuring")
    assert [c.outcome for c in calls if c.action == "CreateMigrationService"] == ["error"]
    run_flow(request_, clients, until="configuring")
    assert len(sandbox.calls.of("CreateMigrationService")) == 2  # the dropped attempt and one purchase
    assert len([j for j in dts_backend(sandbox.world).jobs.values() if j.owner_uin == TARGET_UIN]) == 1


@pytest.mark.parametrize("action", ["CreateRole", "AttachRolePolicy"])
def test_cancelled_after_a_lost_answer_leaves_no_orphan(sandbox, clients, make_request, action):
    """Killed between CreateRole (or an attach) and recording it, then cancelled instead of resumed: the role's
    tag names this request, so the revoke deletes it although the database never heard of it."""
    request = make_request(executor=EXECUTOR_UIN)
    # a CreateRole's lost answer surfaces at once; an attach is repeated by the SDK, so every attempt is lost
    sandbox.faults.add(action, "commit_then_drop", count=1 if action == "CreateRole" else 3)
    with pytest.raises(TencentCloudSDKException):
        run_flow(request, clients, until="preflight")
    assert request.state == "authorizing_source" and request.facts.stored() == {}  # nothing was recorded
    assert sandbox.world.cam(SOURCE_UIN).roles["DTS-role"].tags == policies.owner_tags(request.id)

    request.state = "cancelling"
    [result] = run_flow(request, clients, until="cancelled")
    assert result.outcome.value == "done", result.notice
    assert sandbox.world.cam(SOURCE_UIN).roles == {}
    assert "role `DTS-role` deleted" in result.notice

"""The whole flow against the sandbox through the real SDK: root executor and sub-account executor."""

from __future__ import annotations

from stepflow import EXECUTOR_UIN, EXTERNAL_ID, SOURCE_UIN, TARGET_UIN, run_flow

from core.steps import Outcome
from core.workflow import STEP_STATES
from handlers import STEPS
from sandbox.tencentcloud.dts.models import dts_backend


def test_root_flow_reaches_running_with_one_role_and_one_task(sandbox, clients, request_):
    run_flow(request_, clients, until="running")
    role = sandbox.world.cam(SOURCE_UIN).find_role("DTS-role")
    assert role is not None
    assert sandbox.world.role_policy_names(SOURCE_UIN, "DTS-role") == {
        "QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"}
    jobs = [j for j in dts_backend(sandbox.world).jobs.values() if j.owner_uin == TARGET_UIN]
    assert [j.job_id for j in jobs] == [request_.job_id]
    assert jobs[0].tags == {"dtsbot-request": "r0001"}
    assert jobs[0].status(sandbox.world.clock.now()) in ("readyRun", "running", "readyComplete")


def test_root_flow_to_success_revokes_the_role(sandbox, clients, request_):
    results = run_flow(request_, clients, until="succeeded")
    assert request_.state == "succeeded"
    assert request_.progress == 100
    assert sandbox.world.cam(SOURCE_UIN).find_role("DTS-role") is None
    notices = [r.notice for r in results if r.notice]
    assert any("ready to complete" in n for n in notices)
    assert notices[-1].startswith("Access revoked: role `DTS-role` deleted in shop-prod")
    assert all(EXTERNAL_ID not in n for n in notices)


def test_subaccount_flow_grants_then_revokes(sandbox, clients, make_request):
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    results = run_flow(request, clients, until="succeeded")
    assert request.state == "succeeded", [r.diagnosis for r in results if r.outcome is Outcome.FAILED]
    grant = next(r for r in results if "grant_policy_id" in r.facts)
    assert request.facts.grant_policy_id == grant.facts["grant_policy_id"]
    cam = sandbox.world.cam(TARGET_UIN)
    assert not any(p.name.startswith("dtsbot-assume-") for p in cam.policies.values())
    assert cam.user_policies_of(EXECUTOR_UIN) == []
    jobs = [j for j in dts_backend(sandbox.world).jobs.values() if j.owner_uin == TARGET_UIN]
    assert len(jobs) == 1


def test_calls_are_recorded_without_secrets(clients, calls, request_):
    run_flow(request_, clients, until="running")
    actions = {c.action for c in calls}
    assert {"CreateRole", "AssumeRole", "DescribeMigrateDBInstances", "CreateMigrationService",
            "ModifyMigrationJob", "CreateMigrateCheckJob", "StartMigrateJob"} <= actions
    assert all(c.request_id for c in calls)
    assert {c.account for c in calls} == {"shop-prod", "analytics"}
    text = repr(calls)
    for secret in ("sandbox-source-db-password", "sandbox-target-secret-key-0002", EXTERNAL_ID):
        assert secret not in text


def test_every_state_with_a_cloud_step_has_exactly_one():
    assert set(STEPS) == STEP_STATES

"""Each step run twice: the second run changes nothing in the cloud and reports the same outcome."""

from __future__ import annotations

from stepflow import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN, run_flow

from core.steps import Outcome
from handlers import STEPS

WRITES = {"CreateRole", "AttachRolePolicy", "CreatePolicy", "AttachUserPolicy", "CreateMigrationService",
          "ModifyMigrationJob", "CreateMigrateCheckJob", "StartMigrateJob", "CompleteMigrateJob",
          "DetachRolePolicy", "DeleteRole", "DetachUserPolicy", "DeletePolicy"}


def writes(sandbox) -> list[str]:
    return [c.action for c in sandbox.calls.records if c.action in WRITES]


def test_every_step_twice_changes_nothing_the_second_time(sandbox, clients, make_request):
    request = make_request(executor=EXECUTOR_UIN)
    for state in ("authorizing_source", "granting_subaccount", "preflight", "creating_task", "configuring",
                  "verifying", "starting"):
        run_flow(request, clients, until=state)
        assert request.state == state
        first = STEPS[state](request, clients)
        while first.outcome is Outcome.WAIT:  # verifying: the check runs
            first = STEPS[state](request, clients)
        before = writes(sandbox)
        again = STEPS[state](request, clients)
        assert again.outcome is first.outcome is Outcome.DONE, (state, again.diagnosis)
        assert again.facts.get("job_id") == first.facts.get("job_id")
        assert again.facts.get("grant_policy_id") == first.facts.get("grant_policy_id")
        assert writes(sandbox) == before, state
    world = sandbox.world
    assert len(world.cam(SOURCE_UIN).roles) == 1
    assert len(world.cam(TARGET_UIN).policies) == 1
    assert len(world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)) == 1


def test_revoke_access_twice(sandbox, clients, make_request):
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    run_flow(request, clients, until="revoking_access")
    first = STEPS["revoking_access"](request, clients)
    before = writes(sandbox)
    again = STEPS["revoking_access"](request, clients)
    assert first.outcome is again.outcome is Outcome.DONE
    assert writes(sandbox) == before
    assert "already gone" in again.notice
    assert sandbox.world.cam(SOURCE_UIN).roles == {}
    assert sandbox.world.cam(TARGET_UIN).policies == {}


def test_revoke_leaves_a_role_that_is_not_the_bots(sandbox, clients, make_request):
    request = make_request(migrate_type="full")
    run_flow(request, clients, until="revoking_access")
    clients.cam("shop-prod").call("UpdateAssumeRolePolicy", {
        "RoleName": "DTS-role",
        "PolicyDocument": '{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow",'
                          '"principal":{"qcs":["qcs::cam::uin/100000000003:root"]}}]}'})
    result = STEPS["revoking_access"](request, clients)
    assert result.outcome is Outcome.DONE
    assert "left untouched" in result.notice
    assert "DTS-role" in sandbox.world.cam(SOURCE_UIN).roles

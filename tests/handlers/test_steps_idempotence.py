"""Each step run twice: the second run changes nothing in the cloud and reports the same outcome."""

from __future__ import annotations

from stepflow import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN, run_flow

from core import policies
from core.cloud import CloudCall, CloudClients
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


def test_a_revoke_run_again_leaves_the_role_another_request_made_anew(sandbox, clients, make_request):
    """Killed after DeleteRole took effect and before its outcome was recorded, the last user runs its revoke
    again; meanwhile a new request made a role of the same name (tagged with its own id). That role is not the
    one this request used: it is left to its maker."""
    request = make_request(migrate_type="full")
    run_flow(request, clients, until="revoking_access")
    assert STEPS["revoking_access"](request, clients).outcome is Outcome.DONE  # deleted; its record lost
    newer = make_request(id="r0002", migrate_type="full")
    run_flow(newer, clients, until="preflight")
    assert newer.facts.role_owner == "r0002"
    again = STEPS["revoking_access"](request, clients)
    assert again.outcome is Outcome.DONE and "left to request r0002" in again.notice
    assert "DTS-role" in sandbox.world.cam(SOURCE_UIN).roles


def test_a_revoke_run_again_leaves_the_grant_another_request_made_anew(sandbox, clients, make_request):
    """The same for the sub-account grant (found by review): the policy of the same name made since is another
    policy (another PolicyId), so it is left to the request that made it."""
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    run_flow(request, clients, until="revoking_access")
    assert STEPS["revoking_access"](request, clients).outcome is Outcome.DONE  # deleted; its record lost
    newer = make_request(id="r0002", executor=EXECUTOR_UIN, migrate_type="full")
    run_flow(newer, clients, until="preflight")
    again = STEPS["revoking_access"](request, clients)
    assert again.outcome is Outcome.DONE and "left to request r0002" in again.notice
    assert len(sandbox.world.cam(TARGET_UIN).policies) == 1
    assert len(sandbox.world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)) == 1


def test_two_last_users_ending_at_once_both_end_revoked(sandbox, settings, make_request):
    """Two requests of one role end together: neither counts the other as a user, and both delete. The one that
    loses the race (the role, or the grant, gone between its reads and its DeleteRole or DeletePolicy) says
    "already gone" instead of failing."""
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    run_flow(request, CloudClients(settings, backoff_base=0.01, timeout=5), until="revoking_access")
    cam = sandbox.world.cam

    def the_other_deletes_first(call: CloudCall) -> None:
        if call.action == "ListAttachedRolePolicies" and cam(SOURCE_UIN).find_role("DTS-role") is not None:
            cam(SOURCE_UIN).delete_role("DTS-role")
        if call.action == "ListAttachedUserAllPolicies":
            for policy in list(cam(TARGET_UIN).policies.values()):
                cam(TARGET_UIN).delete_policy(policy.policy_id)

    racing = CloudClients(settings, the_other_deletes_first, backoff_base=0.01, timeout=5)
    result = STEPS["revoking_access"](request, racing)
    assert result.outcome is Outcome.DONE, result.diagnosis
    assert "role `DTS-role` in shop-prod already gone" in result.notice and "already gone" in result.notice.split(";")[1]


def _persons_role(clients, request, *names: str) -> None:
    """A role an owner made by hand (no dtsbot tag), trusting the target root with the request's external ID."""
    cam = clients.cam("shop-prod")
    cam.call("CreateRole", {"RoleName": request.role_name, "PolicyDocument": policies.document(
        policies.trust_policy(TARGET_UIN, request.external_id))})
    for name in names:
        cam.call("AttachRolePolicy", {"AttachRoleName": request.role_name, "PolicyName": name})


ROLE_WRITES = {"CreateRole", "AttachRolePolicy", "DetachRolePolicy", "DeleteRole", "UpdateAssumeRolePolicy"}


def test_a_fitting_persons_role_is_used_and_never_written(sandbox, clients, make_request):
    request = make_request(role_name="LegacyDTS", migrate_type="full")
    mine = ("QcloudCamFullAccess", "QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess")
    _persons_role(clients, request, *mine)
    before = len(sandbox.calls.records)
    run_flow(request, clients, until="succeeded")
    assert request.state == "succeeded"
    assert [c.action for c in sandbox.calls.records[before:] if c.action in ROLE_WRITES] == []
    assert sandbox.world.role_policy_names(SOURCE_UIN, "LegacyDTS") == set(mine)


def test_a_persons_role_lacking_a_policy_is_diagnosed_not_changed(sandbox, clients, make_request):
    request = make_request(role_name="LegacyDTS")
    _persons_role(clients, request, "QcloudDTSReadOnlyAccess")
    before = len(sandbox.calls.records)
    result = STEPS["authorizing_source"](request, clients)
    assert result.outcome is Outcome.FAILED and result.diagnosis.code == "ExistingRoleLacksPolicy"
    assert "`QcloudCDBReadOnlyAccess`" in result.diagnosis.fix and "QcloudDTSReadOnlyAccess" not in result.diagnosis.fix
    assert [c.action for c in sandbox.calls.records[before:] if c.action in ROLE_WRITES] == []
    request.state = "cancelling"
    result = STEPS["cancelling"](request, clients)
    assert "left as it is" in result.notice
    assert sandbox.world.role_policy_names(SOURCE_UIN, "LegacyDTS") == {"QcloudDTSReadOnlyAccess"}


GRANT_WRITES = {"CreatePolicy", "AttachUserPolicy", "DetachUserPolicy", "DeletePolicy"}


def test_a_persons_grant_policy_is_used_only_as_it_is(sandbox, clients, make_request):
    """The same rules for the target grant: a person's identical policy, attached, is used and never detached or
    deleted; one that is not attached is diagnosed, not attached by the bot."""
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    cam = clients.cam("analytics")
    name = policies.grant_policy_name(SOURCE_UIN, request.role_name)
    document = policies.document(policies.subaccount_grant(SOURCE_UIN, request.role_name))
    policy_id = cam.call("CreatePolicy", {"PolicyName": name, "PolicyDocument": document})["PolicyId"]
    before = len(sandbox.calls.records)
    run_flow(request, clients, until="granting_subaccount")
    result = STEPS["granting_subaccount"](request, clients)
    assert result.outcome is Outcome.FAILED and result.diagnosis.code == "ExistingGrantNotAttached"
    assert [c.action for c in sandbox.calls.records[before:] if c.action in GRANT_WRITES] == []

    cam.call("AttachUserPolicy", {"AttachUin": int(EXECUTOR_UIN), "PolicyId": policy_id})
    before = len(sandbox.calls.records)
    request.state = "granting_subaccount"
    run_flow(request, clients, until="succeeded")
    assert request.state == "succeeded"
    assert [c.action for c in sandbox.calls.records[before:] if c.action in GRANT_WRITES] == []
    assert [p.name for p, _ in sandbox.world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)] == [name]
    assert sandbox.world.cam(SOURCE_UIN).roles == {}  # the bot's own role is gone

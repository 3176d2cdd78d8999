"""The guide's FAQ errors, provoked by the real misconfiguration in the sandbox, and what the bot says."""

from __future__ import annotations

import json

from stepflow import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN

from core import policies
from core.steps import Outcome
from handlers import authorize_source, create_task, grant_subaccount, preflight


def test_wrong_role_name_is_faq_1(clients, make_request):
    assert authorize_source(make_request(), clients).outcome is Outcome.DONE
    result = preflight(make_request(role_name="DTS-role-typo"), clients)
    assert result.outcome is Outcome.FAILED
    d = result.diagnosis
    assert d.code == "ResourceNotFound.RoleNotFound"  # STS's own code (sts errorcodes.py)
    assert "Cross-Account Role Name" in d.why
    assert "role name" in d.fix and "source root UIN" in d.fix
    assert d.request_id
    assert d.request_id in result.notice


def test_preflight_before_authorize_source_is_faq_1(clients, request_):
    result = preflight(request_, clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "ResourceNotFound.RoleNotFound"


def test_role_missing_a_read_only_policy_is_faq_2(clients, request_):
    authorize_source(request_, clients)
    clients.cam("shop-prod").call("DetachRolePolicy",
                                  {"DetachRoleName": "DTS-role", "PolicyName": "QcloudCDBReadOnlyAccess"})
    result = preflight(request_, clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "InternalError.InternalInnerCommonError"
    assert "hasn't been granted to the role" in result.diagnosis.why
    assert "QcloudCDBReadOnlyAccess" in result.diagnosis.fix
    # authorize_source repairs exactly the missing attachment, and preflight then passes
    again = authorize_source(request_, clients)
    assert "attached QcloudCDBReadOnlyAccess." in again.notice
    assert preflight(request_, clients).outcome is Outcome.DONE


def test_subaccount_without_the_grant_is_faq_3(clients, make_request):
    request = make_request(executor=EXECUTOR_UIN)
    authorize_source(request, clients)
    result = preflight(request, clients)
    assert result.outcome is Outcome.FAILED
    d = result.diagnosis
    assert d.code == "UnauthorizedOperation"  # STS's own code, worded as the guide's FAQ 3 quotes it
    assert "without the `sts:AssumeRole` permission" in d.why
    assert f"qcs::cam::uin/{SOURCE_UIN}:roleName/DTS-role" in d.fix
    assert grant_subaccount(request, clients).outcome is Outcome.DONE
    assert preflight(request, clients).outcome is Outcome.DONE


def test_role_with_a_foreign_trust_policy_is_refused(sandbox, clients, request_):
    foreign = policies.document(policies.trust_policy("100000000003", None))
    clients.cam("shop-prod").call("CreateRole", {"RoleName": "DTS-role", "PolicyDocument": foreign})
    result = authorize_source(request_, clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "ExistingRoleTrustMismatch"
    assert "never changes a role it did not create" in result.diagnosis.why
    assert request_.external_id not in result.notice and policies.mask(request_.external_id) in result.notice
    role = sandbox.world.cam(SOURCE_UIN).find_role("DTS-role")
    assert json.loads(role.document) == json.loads(foreign)
    assert sandbox.world.role_policy_names(SOURCE_UIN, "DTS-role") == set()


def test_role_with_another_external_id_is_refused(clients, make_request):
    authorize_source(make_request(external_id="dtsbot-first-external-id-000000"), clients)
    result = authorize_source(make_request(external_id="dtsbot-other-external-id-11111"), clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "RoleTrustPolicyMismatch"


def test_grant_policy_with_another_document_is_refused(sandbox, clients, make_request):
    request = make_request(executor=EXECUTOR_UIN)
    name = policies.grant_policy_name(SOURCE_UIN, "DTS-role")
    wider = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                              "resource": ["*"]}]}
    clients.cam("analytics").call("CreatePolicy", {"PolicyName": name, "PolicyDocument": json.dumps(wider)})
    result = grant_subaccount(request, clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "GrantPolicyMismatch"
    assert sandbox.world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN) == []


def test_unknown_source_instance(clients, make_request):
    request = make_request(source_instance="cdb-zzzz0001")
    authorize_source(request, clients)
    result = preflight(request, clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "InstanceNotFound"
    assert "cdb-zzzz0001" in result.diagnosis.what


def test_a_target_instance_of_another_account_fails_the_preflight_before_anything_is_bought(sandbox, clients,
                                                                                           make_request):
    request = make_request(target_instance="cdb-fin00001")  # the third account's instance, not the target's
    authorize_source(request, clients)
    result = preflight(request, clients)
    assert result.outcome is Outcome.FAILED and result.diagnosis.code == "InstanceNotFound"
    assert "cdb-fin00001" in result.diagnosis.what and TARGET_UIN in result.diagnosis.what
    listed = sandbox.calls.of("DescribeMigrateDBInstances")
    assert [c.params["AccountMode"] for c in listed] == ["other", "self"]
    assert not sandbox.calls.of("CreateMigrationService")


def test_insufficient_balance(sandbox, clients, request_):
    sandbox.world.account(TARGET_UIN).balance = 0
    result = create_task(request_, clients)
    assert result.outcome is Outcome.FAILED
    assert f"The balance of the target account analytics ({TARGET_UIN}) is too low" in result.diagnosis.why
    assert "Top up" in result.diagnosis.fix and result.diagnosis.reach == "target"
    assert len(sandbox.calls.of("CreateMigrationService")) == 1  # diagnosed, not retried


def test_missing_database_login_fails_before_the_task_is_bought(clients, calls, make_request):
    request = make_request(source_instance="cdb-src00002", target_instance="cdb-dst00002", db_type="percona")
    authorize_source(request, clients)
    result = create_task(request, clients)
    assert result.outcome is Outcome.FAILED and result.diagnosis.code == "MissingDatabaseLogin"
    assert "app.yaml has no databases.cdb-src00002" in result.diagnosis.what
    assert "CreateMigrationService" not in [c.action for c in calls]  # nothing bought without both logins


def test_unknown_executor_is_a_configuration_failure(clients, make_request):
    result = preflight(make_request(executor="100000000099"), clients)
    assert result.outcome is Outcome.FAILED
    assert result.diagnosis.code == "Configuration"
    assert "executor_uin" in result.diagnosis.what

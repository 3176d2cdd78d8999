"""The guide's FAQ and the operational errors as the channel sees them; which errors are transient.

The FAQ's contract is the public guide ("Migrating data between instances across Tencent accounts", FAQs): its
field names and its cause for each error. Everything else is asserted from the input: the resource, the
executor, the step, the RequestId and the fields a person must change.
"""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException as Error

from core.diagnosis import CHECK_ITEM_OVERVIEW, check_fix, diagnose, is_transient, render
from core.error_codes import GENERIC, Decision, row_for
from core.policies import BASE_READ_ONLY_POLICIES, role_arn
from tests.support.workspace import TARGET_UIN

GUIDE_FIELDS = ("Cross-Account ID", "Cross-Account Role Name")
"""FAQ 1: the two console fields to check when the role does not exist."""
GUIDE_FAQ_2_CAUSE = ("The policy of the Tencent Cloud service to which the source database belongs hasn't been "
                     "granted to the role")
GUIDE_FAQ_3_CAUSE = "without the `sts:AssumeRole` permission"
"""FAQ 3: 'a sub-account without the `sts:AssumeRole` permission' (the diagnosis names the sub-account)."""


def denied(arn: str) -> Error:
    """FAQ 3's error, as STS words it, for the role `arn`."""
    return Error("AuthFailure.UnauthorizedOperation",
                 f"you are not authorized to perform operation (sts:AssumeRole)\nresource ({arn}) has no permission",
                 "rid-3")


@pytest.mark.parametrize(("code", "message", "transient"), [
    ("RequestLimitExceeded", "", True),
    ("RequestLimitExceeded.UinLimitExceeded", "", True),
    ("ClientNetworkError", "Connection aborted", True),
    ("InternalError", "retry later", True),
    ("InternalError.UnknownError", "", True),
    ("InternalError.GetRoleError", "role not exist", False),
    ("InternalError.InternalInnerCommonError", "", False),
    ("AuthFailure.UnauthorizedOperation", "(sts:AssumeRole) has no permission", False),
    ("OperationDenied.NotEnoughMoneyError", "", False),
    ("InternalError.NotEnoughMoneyError", "", False),  # an InternalError, yet a person must top up
    ("LimitExceeded.MaxUnusedJobs", "", False),
    ("InternalError.DuplicateJob", "", False),
    ("FailedOperation.UserNotAuthed", "", False),
    ("InternalError.ParseBinlogError", "", False),
    ("FailedOperation.StatusInConflict", "", True),  # re-read: the step runs again and decides from the state
    ("FailedOperation.StatusInConflictError", "", True),
    ("InvalidParameter.OverLimit", "", True),  # STS: 超过频率限制, a rate limit under InvalidParameter
    ("InvalidParameterValue.InvalidParameterValue", "", False),
    ("Weird.Code", "", False),
])
def test_is_transient(code, message, transient):
    assert is_transient(Error(code, message, "rid")) is transient


@pytest.mark.parametrize("step", ["preflight", "configure_task"])
def test_faq_1_role_not_exist_names_the_guides_fields_and_keeps_the_request_id(step):
    d = diagnose(Error("InternalError.GetRoleError", "role not exist", "rid-1"), step)
    assert all(field in d.why for field in GUIDE_FIELDS)
    assert "role_name" in d.fix  # the request field a person changes
    assert d.request_id == "rid-1" and d.what.startswith(f"{step}: role not exist")


def test_faq_2_missing_policies_gives_the_guides_cause_and_the_policies_to_attach():
    d = diagnose(Error("InternalError.InternalInnerCommonError", "x", "rid"), "preflight")
    assert GUIDE_FAQ_2_CAUSE in d.why
    assert all(policy in d.fix for policy in BASE_READ_ONLY_POLICIES)


@pytest.mark.parametrize(("source_uin", "role_name", "executor"), [
    ("100000000001", "DTS-role", "100000000021"),
    ("200000000777", "dtsbot-mr-abc123", "200000000888"),
])
def test_faq_3_names_the_executor_and_the_resource_from_the_message(source_uin, role_name, executor):
    arn = role_arn(source_uin, role_name)
    d = diagnose(denied(arn), "preflight", executor=executor)
    assert GUIDE_FAQ_3_CAUSE in d.why and f"sub-account ({executor})" in d.why
    assert "root account" in d.fix and f"`{arn}`" in d.fix


def test_faq_3_for_the_root_points_at_the_roles_trust_policy_not_at_a_grant():
    arn = role_arn("100000000001", "DTS-role")
    as_root = diagnose(denied(arn), "preflight", executor="root")
    as_subaccount = diagnose(denied(arn), "preflight", executor="100000000021")
    assert "trust policy" in as_root.why and arn in as_root.fix
    assert as_root.why != as_subaccount.why and "sub-account" not in as_root.why


OPERATIONAL = [
    ("OperationDenied.NotEnoughMoneyError", "balance is insufficient"),
    ("InvalidParameter.InstanceNotFound", "mysql instance cdb-x not found"),
    ("FailedOperation.StatusInConflict", "job is running"),
    ("RequestLimitExceeded", "too fast"),
    ("AuthFailure.SecretIdNotFound", ""),
]


@pytest.mark.parametrize(("code", "message"), OPERATIONAL + [("Weird.Code", "something")])
def test_an_operational_error_keeps_the_step_code_message_and_request_id(code, message):
    d = diagnose(Error(code, message, "rid-9"), "create_task")
    assert d.code == code and d.request_id == "rid-9"
    assert d.what.startswith("create_task: ") and code in d.what and message in d.what
    assert "RequestId: `rid-9`" in render(d) and d.why in render(d) and d.fix in render(d)


def test_each_known_operational_error_has_its_own_cause_not_the_generic_one():
    generic = diagnose(Error("Weird.Code", "something", "rid"), "create_task").why
    causes = [diagnose(Error(code, message, "rid"), "create_task").why for code, message in OPERATIONAL]
    assert generic not in causes and len(set(causes)) == len(causes)


@pytest.mark.parametrize(("code", "message", "field"), [
    ("InvalidParameter.InstanceNotFound", "mysql instance cdb-x not found", "source_instance"),
    ("AuthFailure.SecretIdNotFound", "", "credentials"),
])
def test_the_fix_names_the_setting_to_change(code, message, field):
    assert field in diagnose(Error(code, message, "rid"), "create_task").fix


def test_check_fix_prefers_the_known_fix_then_dts_solution_then_the_overview():
    known = check_fix("BinlogParamCheck")
    assert known and check_fix("BinlogParamCheck", "dts says") == known != "dts says"
    assert check_fix("NewCheck", "dts says") == "dts says"
    assert CHECK_ITEM_OVERVIEW in check_fix("NewCheck")


class Sides:
    """The accounts of a request, as a diagnosis names them."""

    source_account, source_uin, target_account, target_uin = "shop-prod", "100000000001", "analytics", TARGET_UIN


@pytest.mark.parametrize("code", ["InternalError.NotEnoughMoneyError", "OperationDenied.NotEnoughMoneyError"])
def test_a_low_balance_names_the_target_account_to_top_up_and_reaches_its_approvers(code):
    d = diagnose(Error(code, "balance not enough", "rid"), "create_task", sides=Sides())
    assert f"analytics ({TARGET_UIN})" in d.why and f"analytics ({TARGET_UIN})" in d.fix
    assert "top" in d.fix and "*Retry*" in d.fix
    assert d.reach == "target"


def test_too_many_idle_tasks_says_what_to_remove_and_reaches_the_target_approvers():
    d = diagnose(Error("LimitExceeded.MaxUnusedJobs", "too many", "rid"), "create_task", sides=Sides())
    assert "idle" in d.why and "analytics" in d.why
    assert all(word in d.fix for word in ("created", "checkPass", "checkNotPass", "dtsbot-request"))
    assert d.reach == "target"


@pytest.mark.parametrize(("code", "decision"), [
    ("InternalError.UnknownError", Decision.RETRY), ("ClientNetworkError", Decision.RETRY),
    ("FailedOperation.StatusInConflict", Decision.REREAD),
    ("InternalError.ParseBinlogError", Decision.DIAGNOSE), ("InternalError.DuplicateJob", Decision.DIAGNOSE),
    ("FailedOperation.UserNotAuthed", Decision.DIAGNOSE),
    ("FailedOperation.PolicyVersionFull", Decision.FAIL), ("InvalidParameter.GroupFull", Decision.FAIL),
])
def test_each_class_of_decision(code, decision):
    row = row_for(code)
    assert row.decision is decision
    d = diagnose(Error(code, "message", "rid"), "step")
    assert d.why and d.fix and "{" not in d.why + d.fix
    assert (d.why == GENERIC.why) is (row is GENERIC)
    assert d.reach is None or decision is Decision.DIAGNOSE


def test_without_the_request_a_diagnosis_still_reads():
    d = diagnose(Error("InternalError.NotEnoughMoneyError", "", "rid"), "create_task")
    assert "the target account" in d.why and "{" not in d.why + d.fix

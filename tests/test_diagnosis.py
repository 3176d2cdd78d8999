"""The guide's FAQ and the operational errors as the channel sees them; which errors are transient."""

from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException as Error

from core.diagnosis import CHECK_FIXES, check_fix, diagnose, is_transient, render

ARN = "qcs::cam::uin/100000000001:roleName/DTS-role"
DENIED = f"you are not authorized to perform operation (sts:AssumeRole)\nresource ({ARN}) has no permission"


@pytest.mark.parametrize(("code", "message", "transient"), [
    ("RequestLimitExceeded", "", True),
    ("RequestLimitExceeded.UinLimitExceeded", "", True),
    ("ClientNetworkError", "Connection aborted", True),
    ("InternalError", "retry later", True),
    ("InternalError.UnknownError", "", True),
    ("InternalError.GetRoleError", "role not exist", False),
    ("InternalError.InternalInnerCommonError", "", False),
    ("AuthFailure.UnauthorizedOperation", DENIED, False),
    ("OperationDenied.NotEnoughMoneyError", "", False),
])
def test_is_transient(code, message, transient):
    assert is_transient(Error(code, message, "rid")) is transient


def test_faq_1_role_not_exist():
    d = diagnose(Error("InternalError.GetRoleError", "role not exist", "rid-1"), "preflight")
    assert "Cross-Account ID" in d.why and "Cross-Account Role Name" in d.why
    assert "source root UIN and the role name" in d.fix
    assert d.request_id == "rid-1"
    assert d.what.startswith("preflight: role not exist")


def test_faq_2_missing_policies():
    d = diagnose(Error("InternalError.InternalInnerCommonError", "x", "rid"), "preflight")
    assert d.why == ("The policy of the Tencent Cloud service to which the source database belongs hasn't been "
                     "granted to the role.")
    assert "read-only" in d.fix


def test_faq_3_names_the_resource_for_a_subaccount():
    d = diagnose(Error("AuthFailure.UnauthorizedOperation", DENIED, "rid"), "preflight", executor="100000000021")
    assert "sub-account (100000000021) without the `sts:AssumeRole` permission" in d.why
    assert "Use the root account" in d.fix and f"`{ARN}`" in d.fix


def test_faq_3_for_the_root_points_at_the_trust_policy():
    d = diagnose(Error("AuthFailure.UnauthorizedOperation", DENIED, "rid"), "preflight", executor="root")
    assert "trust policy" in d.why and ARN in d.fix


@pytest.mark.parametrize(("code", "message", "why"), [
    ("OperationDenied.NotEnoughMoneyError", "balance is insufficient", "balance is insufficient"),
    ("InvalidParameter.InstanceNotFound", "mysql instance cdb-x not found", "does not exist"),
    ("FailedOperation.StatusInConflict", "job is running", "status that does not allow"),
    ("RequestLimitExceeded", "too fast", "rate limit"),
    ("AuthFailure.SecretIdNotFound", "", "rejected the configured API keys"),
    ("Weird.Code", "something", "refused the call"),
])
def test_operational_errors(code, message, why):
    d = diagnose(Error(code, message, "rid-9"), "create_task")
    assert why in d.why
    assert d.code == code and d.request_id == "rid-9"
    assert "RequestId: `rid-9`" in render(d)


def test_check_fix_prefers_the_known_fix_then_dts_solution():
    assert check_fix("BinlogParamCheck", "dts says") == CHECK_FIXES["BinlogParamCheck"]
    assert check_fix("NewCheck", "dts says") == "dts says"
    assert "Check Item Overview" in check_fix("NewCheck")

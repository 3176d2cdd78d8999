"""Each documented STS AssumeRole error code (SDK sts/v20180813 errorcodes) answered by the sandbox through the
real SDK, as the preflight step diagnoses it; none of them is retried as transient."""

from __future__ import annotations

import pytest
from stepflow import EXECUTOR_UIN, SOURCE_UIN
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.diagnosis import is_transient
from core.steps import Outcome
from handlers import authorize_source, grant_subaccount, preflight
from sandbox.tencentcloud.exceptions import TencentCloudError

ARN = f"qcs::cam::uin/{SOURCE_UIN}:roleName/DTS-role"


def answer_assume_role(sandbox, code: str, message: str) -> None:
    def refuse(params):
        raise TencentCloudError(code, message)
    sandbox.hooks.before("AssumeRole", refuse, service="sts")


@pytest.mark.parametrize(("code", "message", "why", "fix"), [
    ("ResourceNotFound.RoleNotFound", "role not found", "Cross-Account Role Name", "source root UIN and the role"),
    ("InternalError.GetRoleError", "get role error", "Cross-Account Role Name", "source root UIN and the role"),
    ("InternalError.IllegalRole", "illegal role", f"STS refuses `{ARN}`", "Other root account"),
    ("UnauthorizedOperation", "not authorized", "trust policy", f"`{ARN}`"),
    ("AuthFailure.UnauthorizedOperation", "you are not authorized to perform operation (sts:AssumeRole)",
     "trust policy", f"`{ARN}`"),
    ("AuthFailure.AccessKeyIllegal", "key illegal", "STS rejected the API keys", "credentials"),
    ("InvalidParameter.OverTimeError", "too long", "maximum session duration", f"`{ARN}`"),
    ("InvalidParameter.AccountNotAvaliable", "no account", "does not exist", "source root UIN"),
])
def test_each_assume_role_error_gets_its_diagnosis(sandbox, clients, request_, code, message, why, fix):
    assert authorize_source(request_, clients).outcome is Outcome.DONE
    answer_assume_role(sandbox, code, message)
    result = preflight(request_, clients)
    assert result.outcome is Outcome.FAILED
    d = result.diagnosis
    assert (d.code, why in d.why, fix in d.fix) == (code, True, True)
    assert d.request_id and len(sandbox.calls.of("AssumeRole")) == 1  # diagnosed, not retried


def test_unauthorized_for_a_subaccount_is_faq_3(sandbox, clients, make_request):
    request = make_request(executor=EXECUTOR_UIN)
    authorize_source(request, clients)
    grant_subaccount(request, clients)
    answer_assume_role(sandbox, "UnauthorizedOperation", "")
    d = preflight(request, clients).diagnosis
    assert f"sub-account ({EXECUTOR_UIN}) without the `sts:AssumeRole` permission" in d.why
    assert "Use the root account" in d.fix and f"`{ARN}`" in d.fix


@pytest.mark.parametrize("code", ["InternalError.IllegalRole", "InternalError.GetRoleError",
                                  "ResourceNotFound.RoleNotFound", "UnauthorizedOperation"])
def test_role_errors_are_not_transient(code):
    assert not is_transient(TencentCloudSDKException(code, "", "rid"))

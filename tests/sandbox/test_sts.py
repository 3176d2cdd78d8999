"""STS through the real StsClient: its own documented codes for the guide's FAQ causes (sts v20180813
errorcodes.py: `ResourceNotFound.RoleNotFound`, `UnauthorizedOperation` worded as FAQ 3 quotes it), external ID,
temporary credentials and the role's SessionDuration."""

from __future__ import annotations

import json

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sts.v20180813 import models as m
from tencentcloud.sts.v20180813 import sts_client

SOURCE, TARGET, TARGET_SUB = "100000000001", "100000000002", 100000000021
ARN = f"qcs::cam::uin/{SOURCE}:roleName/DTS-role"


def _create_role(tc_client, external_id: str | None = None, principal: str = f"qcs::cam::uin/{TARGET}:root",
                 session_duration: int | None = None):
    statement = {"effect": "allow", "action": ["name/sts:AssumeRole"], "principal": {"qcs": [principal]}}
    if external_id:
        statement["condition"] = {"string_equal": {"sts:external_id": external_id}}
    req = cam_models.CreateRoleRequest()
    req.RoleName, req.PolicyDocument = "DTS-role", json.dumps({"version": "2.0", "statement": [statement]})
    req.SessionDuration = session_duration
    tc_client(cam_client.CamClient, "source").CreateRole(req)


def _assume(sts, arn: str = ARN, external_id: str | None = None, duration: int | None = None):
    req = m.AssumeRoleRequest()
    req.RoleArn, req.RoleSessionName, req.ExternalId, req.DurationSeconds = arn, "dtsbot", external_id, duration
    return sts.AssumeRole(req)


def _grant_sub_account(tc_client, resource: str) -> None:
    cam = tc_client(cam_client.CamClient, "target")
    create = cam_models.CreatePolicyRequest()
    create.PolicyName = "dtsbot-assume"
    create.PolicyDocument = json.dumps({"version": "2.0", "statement": [
        {"effect": "allow", "action": ["name/sts:AssumeRole"], "resource": [resource]}]})
    attach = cam_models.AttachUserPolicyRequest()
    attach.PolicyId, attach.AttachUin = cam.CreatePolicy(create).PolicyId, TARGET_SUB
    cam.AttachUserPolicy(attach)


def _identity(sts) -> m.GetCallerIdentityResponse:
    return sts.GetCallerIdentity(m.GetCallerIdentityRequest())


def test_role_not_exist_faq_1(tc_client):
    _create_role(tc_client)
    with pytest.raises(TencentCloudSDKException) as err:  # wrong Cross-Account ID
        _assume(tc_client(sts_client.StsClient, "target"), "qcs::cam::uin/100000000003:roleName/DTS-role")
    assert err.value.get_code() == "ResourceNotFound.RoleNotFound"
    with pytest.raises(TencentCloudSDKException) as err:  # wrong role name
        _assume(tc_client(sts_client.StsClient, "target"), f"qcs::cam::uin/{SOURCE}:roleName/DTS-rol")
    assert err.value.get_code() == "ResourceNotFound.RoleNotFound"


def test_sub_account_without_grant_faq_3(tc_client):
    _create_role(tc_client)
    with pytest.raises(TencentCloudSDKException) as err:
        _assume(tc_client(sts_client.StsClient, "target-sub"))
    assert err.value.get_code() == "UnauthorizedOperation"
    assert err.value.get_message() == ("you are not authorized to perform operation (sts:AssumeRole)\n"
                                       f"resource ({ARN}) has no permission")


def test_sub_account_grant_must_name_this_role(tc_client):
    _create_role(tc_client)
    _grant_sub_account(tc_client, f"qcs::cam::uin/{SOURCE}:roleName/other-role")
    with pytest.raises(TencentCloudSDKException) as err:
        _assume(tc_client(sts_client.StsClient, "target-sub"))
    assert err.value.get_code() == "UnauthorizedOperation"


def test_sub_account_with_grant_assumes_the_role(tc_client):
    _create_role(tc_client)
    _grant_sub_account(tc_client, ARN)
    assert _assume(tc_client(sts_client.StsClient, "target-sub")).Credentials.TmpSecretId.startswith("AKID")


def test_untrusted_account_is_refused(tc_client):
    _create_role(tc_client)
    with pytest.raises(TencentCloudSDKException) as err:
        _assume(tc_client(sts_client.StsClient, "finance"))
    assert err.value.get_code() == "UnauthorizedOperation"


def test_external_id_must_match(tc_client):
    _create_role(tc_client, external_id="ext-42")
    sts = tc_client(sts_client.StsClient, "target")
    for wrong in (None, "ext-41"):
        with pytest.raises(TencentCloudSDKException) as err:
            _assume(sts, external_id=wrong)
        assert err.value.get_code() == "UnauthorizedOperation"
    assert _assume(sts, external_id="ext-42").Credentials.Token


def test_temporary_credentials_sign_requests_until_they_expire(tc_sandbox, tc_client):
    _create_role(tc_client)
    answer = _assume(tc_client(sts_client.StsClient, "target"), duration=900)
    creds = answer.Credentials
    assert answer.ExpiredTime > 0 and answer.Expiration.endswith("Z")
    as_role = tc_client(sts_client.StsClient, (creds.TmpSecretId, creds.TmpSecretKey), token=creds.Token)
    who = _identity(as_role)
    assert (who.Type, who.AccountId) == ("AssumedRole", SOURCE)
    assert who.Arn.startswith(f"qcs::sts:{SOURCE}:assumed-role/") and who.Arn.endswith("/dtsbot")
    assert tc_sandbox.calls.of("GetCallerIdentity")[-1].caller_uin == who.UserId

    wrong_token = tc_client(sts_client.StsClient, (creds.TmpSecretId, creds.TmpSecretKey), token="forged")
    with pytest.raises(TencentCloudSDKException) as err:
        _identity(wrong_token)
    assert err.value.get_code() == "AuthFailure.TokenFailure"

    tc_sandbox.world.clock.advance(901)
    with pytest.raises(TencentCloudSDKException) as err:
        _identity(as_role)
    assert err.value.get_code() == "AuthFailure.TokenFailure"


def test_caller_identity_of_root_and_sub_account(tc_client):
    root = _identity(tc_client(sts_client.StsClient, "target"))
    assert (root.Arn, root.Type) == (f"qcs::cam::uin/{TARGET}:root", "RootAccount")
    sub = _identity(tc_client(sts_client.StsClient, "target-sub"))
    assert (sub.Arn, sub.UserId, sub.AccountId) == (f"qcs::cam::uin/{TARGET}:uin/{TARGET_SUB}", str(TARGET_SUB),
                                                    TARGET)


def test_duration_over_the_role_maximum_is_refused(tc_client):
    _create_role(tc_client)
    with pytest.raises(TencentCloudSDKException) as err:
        _assume(tc_client(sts_client.StsClient, "target"), duration=7201)
    assert err.value.get_code() == "InvalidParameter.OverTimeError"


def test_the_roles_session_duration_bounds_the_credentials(tc_sandbox, tc_client):
    _create_role(tc_client, session_duration=3600)
    assert tc_sandbox.world.cam(SOURCE).roles["DTS-role"].session_duration == 3600
    sts = tc_client(sts_client.StsClient, "target")
    with pytest.raises(TencentCloudSDKException) as err:
        _assume(sts, duration=7200)  # what dtsbot asks for
    assert err.value.get_code() == "InvalidParameter.OverTimeError"
    assert _assume(sts, duration=3600).Credentials.Token


def test_a_session_duration_beyond_the_documented_range_is_refused(tc_client):
    with pytest.raises(TencentCloudSDKException) as err:
        _create_role(tc_client, session_duration=43201)
    assert err.value.get_code() == "InvalidParameter.ParamError"

"""CAM through the real CamClient: role lifecycle, trust policy checks, policies, sub-account grants."""

from __future__ import annotations

import json

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as m
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

SOURCE, TARGET, TARGET_SUB = "100000000001", "100000000002", 100000000021
TRUST = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                           "principal": {"qcs": [f"qcs::cam::uin/{TARGET}:root"]}}]}


def _req(cls, **fields):
    req = cls()
    for k, v in fields.items():
        setattr(req, k, v)
    return req


def _code(err) -> str:
    return err.value.get_code()


@pytest.fixture
def cam(tc_client):
    return tc_client(cam_client.CamClient, "source")


def test_role_lifecycle(cam):
    role_id = cam.CreateRole(_req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=json.dumps(TRUST),
                                  Description="dtsbot")).RoleId
    info = cam.GetRole(_req(m.GetRoleRequest, RoleName="DTS-role")).RoleInfo
    assert (info.RoleId, info.RoleArn) == (role_id, f"qcs::cam::uin/{SOURCE}:roleName/DTS-role")
    assert json.loads(info.PolicyDocument) == TRUST
    assert cam.GetRole(_req(m.GetRoleRequest, RoleId=role_id)).RoleInfo.RoleName == "DTS-role"

    for name in ("QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess", "QcloudDTSReadOnlyAccess"):
        cam.AttachRolePolicy(_req(m.AttachRolePolicyRequest, AttachRoleName="DTS-role", PolicyName=name))
    listed = cam.ListAttachedRolePolicies(_req(m.ListAttachedRolePoliciesRequest, RoleName="DTS-role",
                                               Page=1, Rp=20))
    assert listed.TotalNum == 2  # attaching twice is idempotent
    assert {p.PolicyName for p in listed.List} == {"QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess"}
    dts_id = next(p.PolicyId for p in listed.List if p.PolicyName == "QcloudDTSReadOnlyAccess")
    cam.DetachRolePolicy(_req(m.DetachRolePolicyRequest, DetachRoleId=role_id, PolicyId=dts_id))
    left = cam.ListAttachedRolePolicies(_req(m.ListAttachedRolePoliciesRequest, RoleId=role_id, Page=1, Rp=20))
    assert [p.PolicyName for p in left.List] == ["QcloudCDBReadOnlyAccess"]

    trust2 = {**TRUST, "statement": [{**TRUST["statement"][0],
                                      "condition": {"string_equal": {"sts:external_id": "ext-1"}}}]}
    cam.UpdateAssumeRolePolicy(_req(m.UpdateAssumeRolePolicyRequest, RoleName="DTS-role",
                                    PolicyDocument=json.dumps(trust2)))
    assert json.loads(cam.GetRole(_req(m.GetRoleRequest, RoleName="DTS-role")).RoleInfo.PolicyDocument) == trust2
    assert cam.DescribeRoleList(_req(m.DescribeRoleListRequest, Page=1, Rp=10)).TotalNum == 1
    cam.DeleteRole(_req(m.DeleteRoleRequest, RoleName="DTS-role"))
    with pytest.raises(TencentCloudSDKException) as err:
        cam.GetRole(_req(m.GetRoleRequest, RoleName="DTS-role"))
    assert _code(err) == "InvalidParameter.RoleNotExist"


def test_role_name_in_use_and_name_rules(cam):
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=json.dumps(TRUST)))
    with pytest.raises(TencentCloudSDKException) as err:
        cam.CreateRole(_req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=json.dumps(TRUST)))
    assert _code(err) == "InvalidParameter.RoleNameInUse"
    with pytest.raises(TencentCloudSDKException) as err:
        cam.CreateRole(_req(m.CreateRoleRequest, RoleName="bad name!", PolicyDocument=json.dumps(TRUST)))
    assert _code(err) == "InvalidParameter.RoleNameError"


@pytest.mark.parametrize(("document", "code"), [
    ("not json", "InvalidParameter.PolicyDocumentError"),
    (json.dumps({**TRUST, "version": "1.0"}), "InvalidParameter.VersionError"),
    (json.dumps({"version": "2.0", "statement": [{**TRUST["statement"][0], "action": "name/cvm:Run"}]}),
     "InvalidParameter.ActionError"),
    (json.dumps({"version": "2.0", "statement": [{**TRUST["statement"][0],
                                                  "principal": {"qcs": ["uin/100000000002"]}}]}),
     "InvalidParameter.PrincipalQcsError"),
])
def test_trust_policy_is_checked(cam, document, code):
    with pytest.raises(TencentCloudSDKException) as err:
        cam.CreateRole(_req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=document))
    assert _code(err) == code


def test_attach_unknown_policy_or_to_unknown_role(cam):
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=json.dumps(TRUST)))
    with pytest.raises(TencentCloudSDKException) as err:
        cam.AttachRolePolicy(_req(m.AttachRolePolicyRequest, AttachRoleName="DTS-role", PolicyName="NoSuch"))
    assert _code(err) == "InvalidParameter.PolicyIdNotExist"
    with pytest.raises(TencentCloudSDKException) as err:
        cam.AttachRolePolicy(_req(m.AttachRolePolicyRequest, AttachRoleName="nope",
                                  PolicyName="QcloudDTSReadOnlyAccess"))
    assert _code(err) == "InvalidParameter.RoleNotExist"


def test_custom_policy_granted_to_sub_account(tc_client):
    cam = tc_client(cam_client.CamClient, "target")
    doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                                        "resource": [f"qcs::cam::uin/{SOURCE}:roleName/DTS-role"]}]})
    policy_id = cam.CreatePolicy(_req(m.CreatePolicyRequest, PolicyName="dtsbot-assume", PolicyDocument=doc)).PolicyId
    with pytest.raises(TencentCloudSDKException) as err:
        cam.CreatePolicy(_req(m.CreatePolicyRequest, PolicyName="dtsbot-assume", PolicyDocument=doc))
    assert _code(err) == "FailedOperation.PolicyNameInUse"
    got = cam.GetPolicy(_req(m.GetPolicyRequest, PolicyId=policy_id))
    assert (got.PolicyName, got.Type, got.PolicyDocument) == ("dtsbot-assume", 1, doc)
    local = cam.ListPolicies(_req(m.ListPoliciesRequest, Scope="Local"))
    assert [p.PolicyName for p in local.List] == ["dtsbot-assume"]
    assert cam.ListPolicies(_req(m.ListPoliciesRequest, Keyword="QcloudDTS")).TotalNum == 1

    cam.AttachUserPolicy(_req(m.AttachUserPolicyRequest, PolicyId=policy_id, AttachUin=TARGET_SUB))
    listed = cam.ListAttachedUserAllPolicies(_req(m.ListAttachedUserAllPoliciesRequest, TargetUin=TARGET_SUB,
                                                  Rp=20, Page=1, AttachType=0))
    assert [(p.PolicyId, p.PolicyName) for p in listed.PolicyList] == [(str(policy_id), "dtsbot-assume")]
    with pytest.raises(TencentCloudSDKException) as err:
        cam.AttachUserPolicy(_req(m.AttachUserPolicyRequest, PolicyId=policy_id, AttachUin=100000000011))
    assert _code(err) == "ResourceNotFound.UserNotExist"  # a sub-account of another account

    cam.DetachUserPolicy(_req(m.DetachUserPolicyRequest, PolicyId=policy_id, DetachUin=TARGET_SUB))
    cam.AttachUserPolicy(_req(m.AttachUserPolicyRequest, PolicyId=policy_id, AttachUin=TARGET_SUB))
    cam.DeletePolicy(_req(m.DeletePolicyRequest, PolicyId=[policy_id]))
    assert cam.ListAttachedUserAllPolicies(_req(m.ListAttachedUserAllPoliciesRequest, TargetUin=TARGET_SUB,
                                                Rp=20, Page=1, AttachType=0)).TotalNum == 0


def test_sub_account_needs_cam_admin_policy(tc_client):
    sub = tc_client(cam_client.CamClient, "target-sub")
    with pytest.raises(TencentCloudSDKException) as err:
        sub.DescribeRoleList(_req(m.DescribeRoleListRequest, Page=1, Rp=10))
    assert _code(err) == "AuthFailure.UnauthorizedOperation"
    root = tc_client(cam_client.CamClient, "target")
    root.AttachUserPolicy(_req(m.AttachUserPolicyRequest, PolicyId=2, AttachUin=TARGET_SUB))  # QcloudCamFullAccess
    assert sub.DescribeRoleList(_req(m.DescribeRoleListRequest, Page=1, Rp=10)).TotalNum == 0


def test_accounts_are_isolated(tc_client):
    tc_client(cam_client.CamClient, "source").CreateRole(
        _req(m.CreateRoleRequest, RoleName="DTS-role", PolicyDocument=json.dumps(TRUST)))
    finance = tc_client(cam_client.CamClient, "finance")
    assert finance.DescribeRoleList(_req(m.DescribeRoleListRequest, Page=1, Rp=10)).TotalNum == 0


def test_role_and_policy_tags_are_stored_and_returned(cam):
    tag = m.RoleTags()
    tag.Key, tag.Value = "dtsbot:request", "mr-abc234"
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="tagged", PolicyDocument=json.dumps(TRUST), Tags=[tag]))
    info = cam.GetRole(_req(m.GetRoleRequest, RoleName="tagged")).RoleInfo
    assert [(t.Key, t.Value) for t in info.Tags] == [("dtsbot:request", "mr-abc234")]
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="untagged", PolicyDocument=json.dumps(TRUST)))
    assert not cam.GetRole(_req(m.GetRoleRequest, RoleName="untagged")).RoleInfo.Tags

    policy_tag = m.Tag()
    policy_tag.Key, policy_tag.Value = "dtsbot:request", "mr-abc234"
    document = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/cam:GetRole"],
                                                 "resource": ["*"]}]}
    policy_id = cam.CreatePolicy(_req(m.CreatePolicyRequest, PolicyName="tagged-policy",
                                      PolicyDocument=json.dumps(document), Tags=[policy_tag])).PolicyId
    answer = cam.GetPolicy(_req(m.GetPolicyRequest, PolicyId=policy_id))
    assert [(t.Key, t.Value) for t in answer.Tags] == [("dtsbot:request", "mr-abc234")]



def test_role_list_filters_by_tag_and_policies_list_their_tags(cam):
    tag = _req(m.RoleTags, Key="dtsbot:request", Value="mr-abc234")
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="tagged", PolicyDocument=json.dumps(TRUST), Tags=[tag]))
    cam.CreateRole(_req(m.CreateRoleRequest, RoleName="untagged", PolicyDocument=json.dumps(TRUST)))
    listed = cam.DescribeRoleList(_req(m.DescribeRoleListRequest, Page=1, Rp=10, Tags=[tag]))
    assert [r.RoleName for r in listed.List] == ["tagged"]
    grant = {"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                             "resource": ["*"]}]}
    cam.CreatePolicy(_req(m.CreatePolicyRequest, PolicyName="grant", PolicyDocument=json.dumps(grant),
                          Tags=[_req(m.Tag, Key="dtsbot:request", Value="mr-abc234")]))
    policies = cam.ListPolicies(_req(m.ListPoliciesRequest, Scope="Local", Page=1, Rp=20)).List
    [policy] = [p for p in policies if p.PolicyName == "grant"]
    assert [(t.Key, t.Value) for t in policy.Tags] == [("dtsbot:request", "mr-abc234")]

"""Sandbox hooks: a callback changes the world right before an action runs, once (or `count` times)."""

from __future__ import annotations

import json

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sts.v20180813 import models as m
from tencentcloud.sts.v20180813 import sts_client

SOURCE, TARGET = "100000000001", "100000000002"


def _assume_request() -> m.AssumeRoleRequest:
    req = m.AssumeRoleRequest()
    req.RoleArn, req.RoleSessionName = f"qcs::cam::uin/{SOURCE}:roleName/DTS-role", "dtsbot"
    return req


def _who(tc_client) -> str:
    return tc_client(sts_client.StsClient, "target").GetCallerIdentity(m.GetCallerIdentityRequest()).AccountId


def test_hook_runs_before_the_action_once_with_its_params(tc_sandbox, tc_client):
    seen: list[tuple[str, dict]] = []
    tc_sandbox.hooks.before("GetCallerIdentity", lambda params: seen.append(("hook", params)), service="sts")
    assert _who(tc_client) == TARGET
    assert _who(tc_client) == TARGET
    assert seen == [("hook", {})]
    assert [r.action for r in tc_sandbox.calls.records] == ["GetCallerIdentity"] * 2


def test_hook_changes_the_world_between_two_calls(tc_sandbox, tc_client):
    trust = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["name/sts:AssumeRole"],
                                                         "principal": {"qcs": [f"qcs::cam::uin/{TARGET}:root"]}}]})
    tc_sandbox.world.cam(SOURCE).create_role("DTS-role", trust)
    unrelated: list[dict] = []
    tc_sandbox.hooks.before("AssumeRole", unrelated.append, service="cam")
    tc_sandbox.hooks.before("AssumeRole", lambda _p: tc_sandbox.world.cam(SOURCE).delete_role("DTS-role"))
    sts = tc_client(sts_client.StsClient, "target")
    with pytest.raises(TencentCloudSDKException) as error:  # the role is gone by the time the action runs
        sts.AssumeRole(_assume_request())
    assert error.value.get_code() == "ResourceNotFound.RoleNotFound"
    assert unrelated == []


def test_reset_forgets_hooks(tc_sandbox, tc_client):
    seen: list[dict] = []
    tc_sandbox.hooks.before("*", seen.append, count=None)
    tc_sandbox.reset()
    _who(tc_client)
    assert seen == []

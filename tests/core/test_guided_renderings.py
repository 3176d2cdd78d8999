"""Guided mode's one model of the CAM steps, rendered three ways: every generated tccli command passes the
sandbox's schema (names and types of tccli's api.json), the Terraform parses (python-hcl2) and says what the
tccli says, and both carry the documents the managed steps would send."""

from __future__ import annotations

import json
from types import SimpleNamespace

import hcl2
import pytest

from core import guided, policies
from sandbox.tencentcloud import schema, tccli
from sandbox.tencentcloud.exceptions import InvalidParameter, UnknownParameter

REQUEST = SimpleNamespace(id="mr-guided1", source_account="shop-prod", source_uin="100000000001",
                          target_account="analytics", target_uin="100000000002", role_name="DTS-role",
                          executor="100000000021", db_type="sqlserver")
EXTERNAL_ID = 'dtsbot-a$%{b}"c'  # what HCL and the shell would both misread if not escaped
ALL_STEPS = {
    "source_role": guided.source_role(REQUEST, EXTERNAL_ID),
    "source_role_deletion": guided.source_role_deletion(REQUEST),
    "source_trust_fix": guided.source_trust_fix(REQUEST, EXTERNAL_ID),
    "target_grant": guided.target_grant(REQUEST),
    "target_grant_deletion": guided.target_grant_deletion(REQUEST),
}


def hcl_string(value: str) -> str:
    """A string attribute as python-hcl2 returns it (quoted, HCL-escaped), as Terraform reads it."""
    return json.loads(value.replace("$${", "${").replace("%%{", "%{"))


def blocks(text: str) -> dict[tuple[str, str, str], dict]:
    parsed = hcl2.loads(text)
    found = {}
    for kind in ("resource", "data"):
        for entry in parsed.get(kind, []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    found[(kind, rtype.strip('"'), name.strip('"'))] = body
    return found


@pytest.mark.parametrize("name", sorted(ALL_STEPS))
def test_every_generated_tccli_command_passes_the_api_schema(name):
    commands = tccli.parse(guided.tccli_script(ALL_STEPS[name]))
    assert [c.action for c in commands] == [c.action for c in ALL_STEPS[name].calls]
    for command in commands:
        schema.check(command.service, command.action, command.params)


def test_the_tccli_script_sends_the_documents_the_managed_steps_would():
    create, *attach = tccli.parse(guided.tccli_script(ALL_STEPS["source_role"]))
    assert create.params["RoleName"] == "DTS-role"
    assert json.loads(create.params["PolicyDocument"]) == policies.trust_policy("100000000002", EXTERNAL_ID)
    assert create.params["PolicyDocument"] == policies.document(policies.trust_policy("100000000002", EXTERNAL_ID))
    assert json.loads(create.params["PolicyDocument"])["statement"][0]["principal"] == {
        "qcs": ["qcs::cam::uin/100000000002:root"]}
    assert [(a.action, a.params) for a in attach] == [
        ("AttachRolePolicy", {"AttachRoleName": "DTS-role", "PolicyName": name})
        for name in policies.source_policies("sqlserver")]
    assert "QcloudSQLServerReadOnlyAccess" in [a.params["PolicyName"] for a in attach]
    created, attached = tccli.parse(guided.tccli_script(ALL_STEPS["target_grant"]))
    assert json.loads(created.params["PolicyDocument"]) == policies.subaccount_grant("100000000001", "DTS-role")
    assert created.keep == "POLICY_ID" and created.filter == "PolicyId"
    assert attached.params["AttachUin"] == 100000000021


def test_a_misspelt_or_mistyped_parameter_is_caught_by_the_schema():
    script = guided.tccli_script(ALL_STEPS["source_role"])
    with pytest.raises(UnknownParameter):
        for command in tccli.parse(script.replace("--AttachRoleName", "--RoleName")):
            schema.check(command.service, command.action, command.params)
    deletion = tccli.parse(guided.tccli_script(ALL_STEPS["target_grant_deletion"]))[-1]
    with pytest.raises(InvalidParameter):
        schema.check("cam", "DeletePolicy", {**deletion.params, "PolicyId": deletion.params["PolicyId"][0]})


def test_the_terraform_parses_and_says_what_the_tccli_says():
    source = blocks(guided.terraform(ALL_STEPS["source_role"]))
    role = source[("resource", "tencentcloud_cam_role", "dts_role")]
    assert hcl_string(role["name"]) == "DTS-role"
    assert json.loads(hcl_string(role["document"])) == policies.trust_policy("100000000002", EXTERNAL_ID)
    looked_up = sorted(hcl_string(body["name"]) for (kind, rtype, _), body in source.items()
                       if (kind, rtype) == ("data", "tencentcloud_cam_policies"))
    assert looked_up == sorted(policies.source_policies("sqlserver"))
    attachments = [body for (kind, rtype, _), body in source.items()
                   if rtype == "tencentcloud_cam_role_policy_attachment"]
    assert len(attachments) == len(looked_up)
    assert all(a["role_id"] == "${tencentcloud_cam_role.dts_role.id}" for a in attachments)
    assert all(".policy_list[0].policy_id" in a["policy_id"] for a in attachments)
    target = blocks(guided.terraform(ALL_STEPS["target_grant"]))
    policy = target[("resource", "tencentcloud_cam_policy", "dtsbot_grant")]
    assert json.loads(hcl_string(policy["document"])) == policies.subaccount_grant("100000000001", "DTS-role")
    assert target[("data", "tencentcloud_cam_users", "executor")]["uin"] == 100000000021
    assert target[("resource", "tencentcloud_cam_user_policy_attachment", "dtsbot_grant")]["policy_id"] == \
        "${tencentcloud_cam_policy.dtsbot_grant.id}"


def test_a_typo_in_the_terraform_would_not_parse():
    with pytest.raises(Exception):  # noqa: B017 - lark's error classes are the parser's business
        hcl2.loads(guided.terraform(ALL_STEPS["source_role"]).replace("}\n\ndata", "\n\ndata", 1))


def test_the_console_steps_name_the_principal_external_id_and_policies():
    text = guided.console_steps(ALL_STEPS["source_role"])
    for part in ("*Tencent Cloud account*", "`100000000002`", "qcs::cam::uin/100000000002:root", EXTERNAL_ID,
                 "QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess", "QcloudSQLServerReadOnlyAccess", "`DTS-role`"):
        assert part in text
    assert "Enable verification* unticked" in guided.console_steps(guided.source_role(REQUEST, None))

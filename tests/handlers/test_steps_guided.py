"""Guided mode's steps against the sandbox with real CloudClients: a guided target account's sub-account grant
becomes the target owner's steps (no CAM call there), the preflight sends a missing grant back to that owner
with the fix, and at the end the bot revokes only what it manages and lists what the owner deletes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from stepflow import EXECUTOR_UIN, TARGET_UIN

from core import policies
from core.cloud import CloudCall, CloudClients, CloudConfigError
from core.config import Settings, load_settings
from core.steps import Outcome
from handlers import STEPS
from sandbox.tencentcloud import tccli
from sandbox.tencentcloud.server import TencentCloudSandbox

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
TARGET_EXECUTOR = "    executor_uin: \"100000000021\"\n"


@pytest.fixture
def guided_target(sandbox: TencentCloudSandbox, tmp_path: Path) -> Settings:
    text = APP_YAML.read_text()
    assert TARGET_EXECUTOR in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace(TARGET_EXECUTOR, TARGET_EXECUTOR + "    access: guided\n", 1))
    return load_settings(path, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})


@pytest.fixture
def guided_clients(guided_target: Settings, calls: list[CloudCall]) -> Iterator[CloudClients]:
    yield CloudClients(guided_target, calls.append, backoff_base=0.01, timeout=5)


def run_as_target_owner(script: str, endpoint: str) -> list[str]:
    """The target owner pastes the script into Cloud Shell (their own root keys, the real SDK)."""
    keys = ("AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002")
    return [c.action for c in tccli.run_with_keys(script, endpoint, *keys)]


def tccli_block(text: str) -> str:
    return text.split("*tccli* (Cloud Shell)\n```\n", 1)[1].split("\n```", 1)[0]


def test_guided_target_grant_is_the_owners_step_and_the_preflight_proves_it(
        sandbox, guided_clients, calls, make_request):
    request = make_request(executor=EXECUTOR_UIN, state="authorizing_source")
    assert STEPS["authorizing_source"](request, guided_clients).outcome is Outcome.DONE  # the source is managed

    calls.clear()
    asked = STEPS["granting_subaccount"](request, guided_clients)
    assert (asked.outcome, asked.next_state) == (Outcome.DONE, "awaiting_owner")
    assert asked.facts == {"guided_side": "target", "guided_next": "preflight"}
    assert asked.actions == ("grant_verify", "guided_reveal")
    assert "tccli cam CreatePolicy --PolicyName dtsbot-assume-100000000001-DTS-role" in asked.notice
    assert "tccli cam AttachUserPolicy --AttachUin 100000000021" in asked.notice
    assert not calls, "no call at all: the grant is the target owner's"

    early = STEPS["preflight"](request, guided_clients)
    assert (early.outcome, early.next_state) == (Outcome.DONE, "awaiting_owner")
    assert early.diagnosis.code == "UnauthorizedOperation"  # STS's own code
    assert early.facts["guided_side"] == "target" and "tccli cam CreatePolicy" in early.notice
    assert not [c for c in calls if c.action == "CreateMigrationService"]

    assert run_as_target_owner(tccli_block(asked.notice), sandbox.endpoint) == ["CreatePolicy", "AttachUserPolicy"]
    passed = STEPS["preflight"](request, guided_clients)
    assert passed.outcome is Outcome.DONE and passed.next_state is None, passed.notice

    calls.clear()
    ended = STEPS["revoking_access"](request, guided_clients)
    assert ended.outcome is Outcome.DONE
    assert "role `DTS-role` deleted in shop-prod" in ended.notice  # the bot's own role
    assert "tccli cam DetachUserPolicy --DetachUin 100000000021" in ended.notice
    assert ended.actions == ()  # nothing guided in the source account to check
    assert not [c for c in calls if c.account.startswith("analytics") and c.service == "cam"]
    grants = sandbox.world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)
    assert [p.name for p, _ in grants] == ["dtsbot-assume-100000000001-DTS-role"], "the owner's grant is untouched"
    assert json.loads(grants[0][0].document)["statement"][0]["resource"] == [
        "qcs::cam::uin/100000000001:roleName/DTS-role"]

    # a policy whose name only starts like the grant's must not be the one the deletion script picks
    lookalike = "tccli cam CreatePolicy --PolicyName dtsbot-assume-100000000001-DTS-role2 --PolicyDocument '{}'"
    run_as_target_owner(lookalike.replace("'{}'", "'" + grants[0][0].document + "'"), sandbox.endpoint)
    deletion = tccli_block(ended.notice.split("Delete policy", 1)[1])
    assert run_as_target_owner(deletion, sandbox.endpoint) == ["ListPolicies", "DetachUserPolicy", "DeletePolicy"]
    assert not sandbox.world.cam(TARGET_UIN).user_policies_of(EXECUTOR_UIN)
    assert [p.name for p in sandbox.world.cam(TARGET_UIN).all_policies() if p.name.startswith("dtsbot-assume")] == [
        "dtsbot-assume-100000000001-DTS-role2"]


def test_the_bot_makes_no_cam_call_in_a_guided_account(guided_clients):
    with pytest.raises(CloudConfigError, match="guided"):
        guided_clients.cam("analytics")


SOURCE_KEYS = ("    credentials:\n      secret_id: ${SOURCE_SECRET_ID:-AKIDSANDBOXSOURCE0000000000000001}\n"
               "      secret_key: ${SOURCE_SECRET_KEY:-sandbox-source-secret-key-0001}\n")


@pytest.fixture
def guided_source(sandbox: TencentCloudSandbox, tmp_path: Path, calls: list[CloudCall]) -> CloudClients:
    text = APP_YAML.read_text()
    assert SOURCE_KEYS in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace(SOURCE_KEYS, "    access: guided\n", 1))
    settings = load_settings(path, environ={"TENCENTCLOUD_ENDPOINT": sandbox.endpoint})
    return CloudClients(settings, calls.append, backoff_base=0.01, timeout=5)


def test_guided_source_steps_call_nothing_and_repeat_identically(sandbox, guided_source, calls, make_request):
    """Killed and re-run, the step gives the same steps (same notice, so the outbox key dedupes) and calls nothing."""
    request = make_request(state="authorizing_source")
    first, again = (STEPS["authorizing_source"](request, guided_source) for _ in range(2))
    assert first == again and first.next_state == "awaiting_owner"
    assert first.facts == {"guided_side": "source", "guided_next": "preflight"}
    assert request.external_id not in first.notice and "qcs::cam::uin/100000000002:root" in first.notice
    assert not calls and not sandbox.calls.records
    missing = STEPS["preflight"](request, guided_source)
    assert missing.diagnosis.code == "ResourceNotFound.RoleNotFound" and missing.next_state == "awaiting_owner"
    assert [c.action for c in calls] == ["AssumeRole"] and calls[0].account == "analytics"
    ended = STEPS["revoking_access"](request, guided_source)
    assert ended.actions == ("role_deleted_check",) and "tccli cam DeleteRole --RoleName DTS-role" in ended.notice
    assert [c.action for c in calls] == ["AssumeRole"], "the end touches nothing in the guided source"


def test_a_role_without_its_read_only_policies_gets_the_attach_steps_back(sandbox, guided_source, make_request):
    request = make_request(state="authorizing_source")
    asked = STEPS["authorizing_source"](request, guided_source)
    script = tccli_block(asked.notice).replace(policies.mask(request.external_id),
                                               request.external_id)
    keys = ("AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001")
    create_only = script.splitlines()[0]  # the owner forgets the policies
    assert [c.action for c in tccli.run_with_keys(create_only, sandbox.endpoint, *keys)] == ["CreateRole"]
    result = STEPS["preflight"](request, guided_source)
    assert result.diagnosis.code == "InternalError.InternalInnerCommonError"
    assert result.next_state == "awaiting_owner" and result.facts["guided_side"] == "source"
    fix = tccli_block(result.notice)
    assert [c.action for c in tccli.parse(fix)] == ["AttachRolePolicy", "AttachRolePolicy"]
    assert tccli.run_with_keys(fix, sandbox.endpoint, *keys)
    assert STEPS["preflight"](request, guided_source).next_state is None


def test_a_role_trusting_another_external_id_gets_the_trust_policy_fix(sandbox, guided_source, make_request):
    request = make_request(state="authorizing_source")
    masked = policies.mask(request.external_id)
    script = tccli_block(STEPS["authorizing_source"](request, guided_source).notice)
    keys = ("AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001")
    tccli.run_with_keys(script.replace(masked, "a-typo-of-the-external-id"), sandbox.endpoint, *keys)
    result = STEPS["preflight"](request, guided_source)
    assert result.diagnosis.code == "UnauthorizedOperation" and result.facts["guided_side"] == "source"
    fix = tccli_block(result.notice)
    assert [c.action for c in tccli.parse(fix)] == ["UpdateAssumeRolePolicy"]
    tccli.run_with_keys(fix.replace(masked, request.external_id), sandbox.endpoint, *keys)
    assert STEPS["preflight"](request, guided_source).next_state is None

"""The plan approvers see is what the cloud steps do: same role, principal, policies, grant and task spec."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.blocks import plan_text
from core import policies
from core.cloud import CloudClients
from core.config import Settings, parse_settings
from core.plan import plan_for
from handlers.authorize_source import authorize_source
from handlers.create_task import create_task
from handlers.grant_subaccount import grant_subaccount
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from storage.models import MigrationRequest
from tests.support.workspace import ACCOUNTS, ANY_INSTANCE_LOGIN

SOURCE, TARGET = "100000000001", "100000000002"


@pytest.fixture
def sandbox() -> Iterator[TencentCloudSandbox]:
    with TencentCloudSandbox(default_world()) as running:
        yield running




def settings_for(endpoint: str) -> Settings:
    return parse_settings({
        "slack": {"bot_token": "xoxb-sandbox-bot-token", "signing_secret": "sandbox-signing-secret",
                  "channel": "C0DTSBOT01"},
        "tencentcloud": {"endpoint": endpoint, "region": "ap-guangzhou"},
        "accounts": ACCOUNTS,
        "databases": ANY_INSTANCE_LOGIN,
    }, environ={})


def request(db_type: str = "sqlserver", executor: str = "100000000021") -> MigrationRequest:
    return MigrationRequest(
        id="mr-plan22", requester="U0REQUESTER", source_account="shop-prod", source_uin=SOURCE,
        source_region="ap-guangzhou", source_instance="mssql-src00001", target_account="analytics",
        target_uin=TARGET, target_region="ap-guangzhou", target_instance="mssql-dst00001", db_type=db_type,
        role_name="DTS-role", external_id="dtsbot-abcdefghijklmnop", executor=executor,
        migrate_type="fullAndIncrement", objects="all",
    )


def test_the_plan_is_what_the_cloud_steps_create(sandbox: TencentCloudSandbox) -> None:
    settings = settings_for(sandbox.endpoint)
    migration = request()
    plan = plan_for(migration, settings)
    clients = CloudClients(settings)
    assert authorize_source(migration, clients).outcome == "done"
    assert grant_subaccount(migration, clients).outcome == "done"

    source_cam = sandbox.world.cam(SOURCE)
    role = source_cam.find_role(plan.role_name)
    trust = json.loads(role.document)["statement"][0]
    assert trust["principal"]["qcs"] == [plan.trusted_principal]
    assert source_cam.role_policy_names(plan.role_name) == set(plan.policies)
    assert "QcloudSQLServerReadOnlyAccess" in plan.policies

    grant = sandbox.world.cam(TARGET).policy_by_name(plan.grant.policy_name)
    assert json.loads(grant.document)["statement"][0]["resource"] == [plan.grant.resource]
    assert [p.name for p, _ in sandbox.world.cam(TARGET).user_policies_of("100000000021")] == [
        plan.grant.policy_name]
    bought = create_task(migration, clients)
    job = dts_backend(sandbox.world).get(TARGET, bought.facts["job_id"])
    assert (job.instance_class, job.src_database_type) == (plan.task.instance_class, plan.task.database_type)
    assert plan.task.database_type == "sqlserver"

    text = plan_text(plan)
    for shown in (plan.role_name, plan.role_arn, plan.trusted_principal, *plan.policies, plan.grant.policy_name,
                  policies.mask(migration.external_id)):
        assert shown in text
    assert migration.external_id not in text


def test_root_executor_has_no_grant_and_engine_policies_follow_core_policies() -> None:
    settings = settings_for("127.0.0.1:1")
    for db_type in ("mysql", "redis", "postgresql"):
        plan = plan_for(request(db_type, executor="root"), settings)
        assert plan.grant is None
        assert plan.policies == policies.source_policies(db_type)
        assert plan.role_arn == policies.role_arn(SOURCE, "DTS-role")
    assert plan_for(request("redis", "root"), settings).allowlisting_note


def test_long_role_names_get_grants_of_their_own_and_short_external_ids_are_hidden_whole():
    from core.policies import grant_policy_name, mask

    first, second = grant_policy_name("100000000001", "r" * 110 + "A" * 18), grant_policy_name(
        "100000000001", "r" * 110 + "B" * 18)
    assert first != second and len(first) <= 128 and len(second) <= 128
    assert grant_policy_name("100000000001", "DTS-role") == "dtsbot-assume-100000000001-DTS-role"
    assert mask("abcdefghi") == mask("abcdefghijklmno") == "•" * 8 and mask("dtsbot-generated-0123456789") == "…6789"
    for secret in ("0123456789abcdef", "dtsbot-" + "x" * 25, "a" * 15 + "Z", "short"):
        shown = [c for c in mask(secret) if c not in "…•"]
        assert len(shown) <= 4, "at most four characters of an external ID are ever shown"


def test_a_redis_plan_says_its_write_mode_and_the_others_none() -> None:
    settings = settings_for("127.0.0.1:1")
    redis = request("redis", executor="root")
    redis.write_mode = "clearData"
    plan = plan_for(redis, settings)
    assert plan.task.write_mode == "clearData" and plan.scope_notes == ()
    assert ("Redis write mode `clearData`: DTS empties the target instance first (always sent: left unset, DTS "
            "would overwrite).") in plan_text(plan)
    assert plan_for(request("mysql", executor="root"), settings).task.write_mode is None
    assert "write mode" not in plan_text(plan_for(request("mysql", executor="root"), settings))


def test_engines_outside_the_guide_and_guessed_policies_are_said_in_the_plan() -> None:
    settings = settings_for("127.0.0.1:1")
    mariadb = plan_text(plan_for(request("mariadb", executor="root"), settings))
    assert "MariaDB is not covered by Tencent's cross-account guide (enabled here by dts.experimental_engines)" in mariadb
    tendis = plan_for(request("tendis", executor="root"), settings)
    assert tendis.task.write_mode == "normal"  # a request stored without one reads as the default
    assert ("Tendis: Tencent documents no read-only policy for it; the role gets `QcloudRedisReadOnlyAccess` and "
            "its topology is read through the Redis API, both a guess.") in plan_text(tendis)
    assert plan_for(request("mysql", executor="root"), settings).scope_notes == ()

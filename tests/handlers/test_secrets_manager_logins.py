"""Database logins from Tencent Cloud Secrets Manager (the sandbox's SSM, the real SDK): read when used, a
`"*"` entry that names the instance (a new instance needs a secret, not a restart), and a rotated password that
works without a restart: DTS refuses the cached one, the bot reads the secret again and verifies again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stepflow import EXTERNAL_ID, SOURCE_UIN, SPEED, TARGET_UIN, run_flow

from core.cloud import CloudClients
from core.config import ConfigError, Settings, parse_settings
from core.logins import DatabaseLogins, LoginUnavailable
from core.steps import Outcome
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.ssm.models import ssm_backend
from sandbox.tencentcloud.world import default_world
from storage.models import MigrationRequest
from tests.support.workspace import ACCOUNTS

SOURCE, TARGET = "cdb-src00001", "cdb-dst00001"


@pytest.fixture
def sandbox() -> Iterator[TencentCloudSandbox]:
    world = default_world(SPEED)
    for uin, instance in ((SOURCE_UIN, SOURCE), (TARGET_UIN, TARGET)):
        world.instance(uin, "ap-guangzhou", instance).password = f"{instance}-password-1"
    secrets = ssm_backend(world, TARGET_UIN)  # the bot reads them with the target account's keys
    for instance in (SOURCE, TARGET):
        secrets.create(f"dtsbot-db-{instance}", f'{{"user": "dts", "password": "{instance}-password-1"}}')
    with TencentCloudSandbox(world) as running:
        yield running
    assert not running.output_drift


def settings(sandbox: TencentCloudSandbox, cache_seconds: float = 3600) -> Settings:
    return parse_settings({
        "slack": {"bot_token": "xoxb-t", "signing_secret": "s", "channel": "C0DTSBOT01"},
        "tencentcloud": {"endpoint": sandbox.endpoint, "region": "ap-guangzhou"},
        "accounts": ACCOUNTS,
        "databases": {"*": {"login": "ssm://dtsbot-db-{instance}"}},
        "secrets_manager": {"account": "analytics", "cache_seconds": cache_seconds},
    }, environ={})


def request(request_id: str) -> MigrationRequest:
    return MigrationRequest(
        id=request_id, requester="U0REQUESTER", source_account="shop-prod", source_uin=SOURCE_UIN,
        source_region="ap-guangzhou", source_instance=SOURCE, target_account="analytics", target_uin=TARGET_UIN,
        target_region="ap-guangzhou", target_instance=TARGET, db_type="mysql", role_name=f"DTS-{request_id}",
        external_id=EXTERNAL_ID, executor="root", migrate_type="fullAndIncrement", objects="all",
        state="approved", facts={})


def test_a_login_is_read_per_instance_when_used_and_never_shown(sandbox):
    logins = DatabaseLogins(settings(sandbox))
    login = logins.login(SOURCE)
    assert (login.user, login.password.get_secret_value(), login.key) == ("dts", f"{SOURCE}-password-1",
                                                                          "databases.*")
    assert f"{SOURCE}-password-1" not in repr(login)
    with pytest.raises(LoginUnavailable) as missing:  # no secret for this instance (yet)
        logins.login("cdb-dst00002")
    assert str(missing.value) == ("database login for `cdb-dst00002`: databases.*: ssm://dtsbot-db-cdb-dst00002: "
                                  "Secrets Manager answered ResourceNotFound.SecretNotExist: secret "
                                  "dtsbot-db-cdb-dst00002 does not exist")
    ssm_backend(sandbox.world, TARGET_UIN).create("dtsbot-db-cdb-dst00002", '{"user": "u", "password": "p2"}')
    assert logins.login("cdb-dst00002").user == "u"  # a new instance: a new secret, no restart


def test_a_rotated_password_works_without_a_restart(sandbox):
    clients = CloudClients(settings(sandbox), backoff_base=0.01, timeout=5)
    first = request("mr-rot001")
    run_flow(first, clients)
    assert first.state == "running"

    # rotation: the database gets a new password and SSM a new version (the bot's read is cached for an hour)
    for uin, instance in ((SOURCE_UIN, SOURCE), (TARGET_UIN, TARGET)):
        sandbox.world.instance(uin, "ap-guangzhou", instance).password = f"{instance}-password-2"
        ssm_backend(sandbox.world, TARGET_UIN).rotate(f"dtsbot-db-{instance}",
                                                      {"user": "dts", "password": f"{instance}-password-2"})
    second = request("mr-rot002")  # the next migration of the pair, same replica, no restart
    results = run_flow(second, clients)
    assert second.state == "running", [r.notice for r in results]
    notices = [r.notice for r in results if r.notice]
    assert any("read the logins again from Secrets Manager" in n for n in notices)
    assert not any(r.outcome is Outcome.CHECK_FAILED for r in results)
    versions = [c for c in sandbox.calls.records if c.action == "GetSecretValue"]
    assert len(versions) == 4  # each secret read once at first, once again after DTS refused the cached one


def test_a_tencentdb_credential_that_ssm_rotates_serves_as_a_login(sandbox):
    """Secrets Manager's database credentials (the product secrets it rotates, read as SSM_Current) hold
    `{"UserName": …, "Password": …}`, as Tencent's ssm-rotation-sdk reads them; `login:` takes that shape too."""
    ssm_backend(sandbox.world, TARGET_UIN).create("tencentdb-cdb-dst00001",
                                                  '{"UserName": "dts_writer", "Password": "rotated-1"}')
    data = {"slack": {"bot_token": "xoxb-t", "signing_secret": "s", "channel": "C0DTSBOT01"},
            "tencentcloud": {"endpoint": sandbox.endpoint, "region": "ap-guangzhou"}, "accounts": ACCOUNTS,
            "databases": {TARGET: {"login": "ssm://tencentdb-cdb-dst00001"}},
            "secrets_manager": {"account": "analytics"}}
    login = DatabaseLogins(parse_settings(data, environ={})).login(TARGET)
    assert (login.user, login.password.get_secret_value()) == ("dts_writer", "rotated-1")


def test_a_json_secret_named_without_its_key_is_never_taken_whole_as_a_password(sandbox):
    """`password: ssm://name` of a JSON secret gave DTS the whole JSON as the password; `check` said ready."""
    data = {"slack": {"bot_token": "xoxb-t", "signing_secret": "s", "channel": "C0DTSBOT01"},
            "tencentcloud": {"endpoint": sandbox.endpoint, "region": "ap-guangzhou"}, "accounts": ACCOUNTS,
            "databases": {SOURCE: {"user": "dts", "password": f"ssm://dtsbot-db-{SOURCE}"}},
            "secrets_manager": {"account": "analytics"}}
    with pytest.raises(LoginUnavailable) as whole:
        DatabaseLogins(parse_settings(data, environ={})).login(SOURCE)
    assert str(whole.value) == (
        f"database login for `{SOURCE}`: databases.{SOURCE}: ssm://dtsbot-db-{SOURCE}: the secret is a JSON object; "
        f"name the key to read, ssm://dtsbot-db-{SOURCE}#<key> (its keys: password, user)")
    assert "password-1" not in str(whole.value)


def test_a_slack_secret_named_without_its_key_is_an_error_naming_the_key(sandbox):
    ssm_backend(sandbox.world, TARGET_UIN).create("prod-slack", '{"signing_secret":"abc123","bot_token":"xoxb-1"}')
    data = {"slack": {"bot_token": "xoxb-t", "signing_secret": "ssm://prod-slack", "channel": "C0DTSBOT01"},
            "tencentcloud": {"endpoint": sandbox.endpoint, "region": "ap-guangzhou"}, "accounts": ACCOUNTS,
            "secrets_manager": {"account": "analytics"}}
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, environ={})
    assert caught.value.problems == [("slack.signing_secret: ssm://prod-slack: the secret is a JSON object; name "
                                      "the key to read, ssm://prod-slack#<key> (its keys: bot_token, signing_secret)")]
    data["slack"]["signing_secret"] = "ssm://prod-slack#signing_secret"
    assert parse_settings(data, environ={}).slack.signing_secret.get_secret_value() == "abc123"


def test_no_keys_for_secrets_manager_says_which_keys_to_set(sandbox, monkeypatch, tmp_path):
    """Neither secrets_manager.account nor .credentials, and no keys where the SDK's default chain looks: the
    error says what to set, not `Secrets Manager could not be asked (OSError)` (the chain's last provider, TKE's,
    raises OSError)."""
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TKE_REGION", "TKE_PROVIDER_ID",
                 "TKE_IDENTITY_TOKEN_FILE", "TKE_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.tencentcloud/credentials
    data = {"slack": {"bot_token": "xoxb-t", "signing_secret": "ssm://prod-slack#signing_secret",
                      "channel": "C0DTSBOT01"},
            "tencentcloud": {"endpoint": sandbox.endpoint, "region": "ap-guangzhou"}, "accounts": ACCOUNTS}
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, environ={})
    assert caught.value.problems == [
        ("slack.signing_secret: secrets_manager: no credentials (set secrets_manager.credentials or .account, or "
         "run where the SDK's default chain finds keys)")]

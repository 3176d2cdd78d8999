"""`dtsbot check` against the sandboxes: a good configuration is all ✓; bad keys, UINs, Slack token and channel
membership are each ✗ with the reason and the fix; an invalid file lists its problems."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.check_operations import GRANT, PROBE_ROLE, SIDES
from bot.cli import main
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.cam.documents import allows
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.ssm.models import ssm_backend
from sandbox.tencentcloud.world import default_world
from storage.db import make_engine, migrate

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"


@pytest.fixture
def cloud() -> Iterator[TencentCloudSandbox]:
    with TencentCloudSandbox(default_world()) as sandbox:
        yield sandbox


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, cloud: TencentCloudSandbox, slack: SlackEmulator,
            tmp_path: Path) -> pytest.MonkeyPatch:
    """The shipped app.yaml's environment pointed at the sandboxes and a migrated database (and nothing else from
    this shell)."""
    for name in ("SOURCE_SECRET_ID", "SOURCE_SECRET_KEY", "TARGET_SECRET_ID", "TARGET_SECRET_KEY",
                 "TARGET_EXECUTOR_SECRET_ID", "TARGET_EXECUTOR_SECRET_KEY", "SLACK_BOT_TOKEN", "DTSBOT_CHANNEL",
                 "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_ENDPOINT", cloud.endpoint)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    database = f"sqlite:///{tmp_path / 'checked.db'}"
    migrate(make_engine(database))
    monkeypatch.setenv("DTSBOT_DATABASE_URL", database)
    return monkeypatch


def check(capsys: pytest.CaptureFixture[str], config: Path = APP_YAML) -> tuple[int, list[str]]:
    code = main(["check", "--config", str(config)])
    return code, capsys.readouterr().out.splitlines()


def row(lines: list[str], what: str) -> str:
    return next(line for line in lines if what in line and line[:1] in "✓✗")


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = APP_YAML.read_text()
    assert old in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_shipped_config_against_the_sandboxes_is_ready(environ, cloud, capsys):
    code, lines = check(capsys)
    assert code == 0, "\n".join(lines)
    assert row(lines, "configuration is valid").startswith("✓")
    assert row(lines, "accounts[shop-prod] keys").split() == [
        "✓", "accounts[shop-prod]", "keys", "keys", "of", "account", "100000000001", "(RootAccount)"]
    assert "keys of account 100000000002" in row(lines, "accounts[analytics] keys")
    assert "keys of sub-account 100000000021 of account 100000000002" in row(lines, "executor 100000000021")
    assert "bot @dtsbot (U0DTSBOT)" in row(lines, "slack.bot_token")
    assert "the bot is a member of #dts-migrations" in row(lines, "slack.channel C0DTSBOT01")
    assert lines[-1] == "12/12 ready"
    assert {r.action for r in cloud.calls.records} == {  # reads only: nothing created or changed
        "GetCallerIdentity", "GetRole", "ListPolicies", "DescribeMigrationJobs"}


def test_an_invalid_config_lists_every_problem(environ, tmp_path, capsys):
    path = tmp_path / "app.yaml"
    path.write_text("slack:\n  bot_token: x\n  signing_secret: y\n  channel: '#general'\naccounts: []\n")
    code, lines = check(capsys, path)
    assert code == 2
    assert lines[0] == f"✗ {path}: invalid configuration"
    assert "  slack.channel: must be a Slack channel ID such as C0123ABCD (not a #name)" in lines
    assert any(line.startswith("  accounts:") for line in lines)


def test_keys_of_another_account_than_the_uin_are_not_ready(environ, tmp_path, capsys):
    code, lines = check(capsys, edited(tmp_path, 'uin: "100000000001"', 'uin: "100000000009"'))
    assert code == 1
    assert row(lines, "accounts[shop-prod] keys").endswith(
        "the keys belong to account 100000000001, not to the configured uin 100000000009")
    assert any(line.strip() == "fix: Use the keys of that account, or fix the UIN in app.yaml." for line in lines)
    assert row(lines, "accounts[analytics] keys").startswith("✓")
    assert lines[-1] == "10/11 ready; fix the ✗ items above"


def test_executor_keys_of_another_sub_account_are_not_ready(environ, tmp_path, capsys):
    path = edited(tmp_path, 'executor_uin: "100000000021"', 'executor_uin: "100000000022"')
    code, lines = check(capsys, path)
    assert code == 1
    assert row(lines, "executor 100000000022").endswith(
        "the executor keys belong to 100000000021 of account 100000000002, not to sub-account 100000000022 of "
        "100000000002")


def test_an_executor_without_its_keys_is_not_ready(environ, tmp_path, capsys):
    text = APP_YAML.read_text()
    start = text.index("    executor_credentials:\n")
    end = text.index("\n", text.index("TARGET_EXECUTOR_SECRET_KEY", start)) + 1
    path = tmp_path / "app.yaml"
    path.write_text(text[:start] + text[end:])
    code, lines = check(capsys, path)
    assert code == 1
    assert row(lines, "executor 100000000021").startswith("✗")
    assert "executor_uin is set without executor_credentials" in row(lines, "executor 100000000021")


def test_wrong_secret_key_is_diagnosed(environ, capsys):
    environ.setenv("TARGET_SECRET_KEY", "not-the-key")
    code, lines = check(capsys)
    assert code == 1
    failed = row(lines, "accounts[analytics] keys")
    assert failed.startswith("✗") and "AuthFailure" in failed
    assert any("fix: Check `accounts[].credentials`" in line for line in lines)
    assert "not-the-key" not in "\n".join(lines)


def test_bad_slack_token_is_not_ready(environ, capsys):
    environ.setenv("SLACK_BOT_TOKEN", "xoxb-not-the-token")
    code, lines = check(capsys)
    assert code == 1
    assert row(lines, "slack.bot_token").endswith("auth.test answered invalid_auth")
    assert any("fix: Set SLACK_BOT_TOKEN (slack.bot_token) to the app's Bot User OAuth Token" in line
               for line in lines)
    assert row(lines, "slack.channel").endswith("not checked: the token does not work")
    assert "xoxb-not-the-token" not in "\n".join(lines)


def test_bot_not_in_the_channel_is_not_ready(environ, capsys):
    with SlackEmulator(members={"C0DTSBOT01": ["U0REQUESTER", "U0SRCOWNER"]}) as outsider:
        environ.setenv("SLACK_API_URL", outsider.base_url)
        code, lines = check(capsys)
    assert code == 1
    assert row(lines, "slack.bot_token").startswith("✓")
    assert row(lines, "slack.channel C0DTSBOT01").endswith("the bot is not a member of #dts-migrations")
    assert any("fix: Invite it: type `/invite @dtsbot` in #dts-migrations." in line for line in lines)


def test_unknown_channel_is_not_ready(environ, capsys):
    environ.setenv("DTSBOT_CHANNEL", "C0NOSUCH01")
    code, lines = check(capsys)
    assert code == 1
    assert row(lines, "slack.channel C0NOSUCH01").endswith("conversations.info answered channel_not_found")


def _no_traceback(capsys_err: str) -> None:
    assert "Traceback" not in capsys_err, capsys_err


def test_slack_unreachable_is_an_item_and_the_whole_table_is_printed(environ, capsys):
    with socket.socket() as closed:  # a port that was free: nothing listens there
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    environ.setenv("SLACK_API_URL", f"http://127.0.0.1:{port}/api/")
    code = main(["check", "--config", str(APP_YAML)])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 1
    _no_traceback(err)
    assert row(lines, "accounts[shop-prod] keys").startswith("✓")  # the cloud results are printed too
    assert "auth.test at http://127.0.0.1" in row(lines, "slack.bot_token")
    assert any("fix: Check slack.api_url (SLACK_API_URL" in line for line in lines)
    assert row(lines, "slack.channel").endswith("not checked: Slack did not answer")
    assert lines[-1] == "8/10 ready; fix the ✗ items above"


def test_a_malformed_slack_api_url_is_an_item(environ, capsys):
    environ.setenv("SLACK_API_URL", "not a url")
    code = main(["check", "--config", str(APP_YAML)])
    out, err = capsys.readouterr()
    assert code == 1
    _no_traceback(err)
    assert row(out.splitlines(), "slack.bot_token").startswith("✗")
    assert out.splitlines()[-1] == "8/20 ready; fix the ✗ items above"


def test_an_account_without_credentials_and_no_default_chain_is_an_item(environ, tmp_path, capsys):
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TKE_REGION", "TKE_PROVIDER_ID",
                 "TKE_WEB_IDENTITY_TOKEN_FILE", "TKE_ROLE_ARN"):
        environ.delenv(name, raising=False)
    environ.setenv("HOME", str(tmp_path))  # no ~/.tencentcloud profile either
    text = APP_YAML.read_text()
    start = text.index("    credentials:\n      secret_id: ${SOURCE_SECRET_ID")
    end = text.index("\n\n", start)
    path = tmp_path / "app.yaml"
    path.write_text(text[:start] + text[end:])
    code = main(["check", "--config", str(path)])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 1
    _no_traceback(err)
    assert "TKE_REGION" in row(lines, "accounts[shop-prod] keys") and row(lines, "shop-prod").startswith("✗")
    assert any("fix: No keys found: set this account's credentials" in line for line in lines)
    assert row(lines, "accounts[analytics] keys").startswith("✓")
    assert row(lines, "slack.bot_token").startswith("✓")
    assert lines[-1] == "10/11 ready; fix the ✗ items above"


def test_a_guided_source_without_keys_is_ready_and_said_to_be_guided(environ, cloud, capsys, tmp_path):
    text = APP_YAML.read_text()
    keys = ("    credentials:\n      secret_id: ${SOURCE_SECRET_ID:-AKIDSANDBOXSOURCE0000000000000001}\n"
            "      secret_key: ${SOURCE_SECRET_KEY:-sandbox-source-secret-key-0001}\n")
    assert keys in text
    path = tmp_path / "app.yaml"
    path.write_text(text.replace(keys, "    access: guided\n", 1))
    code, lines = check(capsys, path)
    assert code == 0, lines
    guided = row(lines, "accounts[shop-prod] access")
    assert guided.startswith("✓") and "guided" in guided and "owner runs the CAM steps" in guided
    assert not any("accounts[shop-prod] keys" in line for line in lines)
    assert not [r for r in cloud.calls.records if r.caller_uin == "100000000001"]


def test_approvers_are_resolved_and_unknown_ones_reported(environ, tmp_path, capsys):
    path = edited(tmp_path, "approvers: [U0SRCOWNER]", "approvers: [sam@dtsbot-sandbox.example, U0SRCOWNER]")
    path.write_text(path.read_text().replace("approvers: [U0TGTOWNER]",
                                             "approvers: [nobody@shop.example, S0NOGROUP, U0TGTOWNER]"))
    code, lines = check(capsys, path)
    assert code == 1
    assert row(lines, "accounts[shop-prod] approvers").split() == [
        "✓", "accounts[shop-prod]", "approvers", "sam@dtsbot-sandbox.example", "→", "U0SRCOWNER,", "U0SRCOWNER"]
    target = row(lines, "accounts[analytics] approvers")
    assert target.startswith("✗") and target.endswith(
        "unknown to Slack: nobody@shop.example (users_not_found), S0NOGROUP (no_such_subteam)")
    assert any("fix: Use the address of an active Slack user" in line for line in lines)
    assert lines[-1] == "11/12 ready; fix the ✗ items above"


def test_a_deactivated_approver_is_reported(environ, slack, capsys):
    slack.workspace.deactivate("U0TGTOWNER")
    code, lines = check(capsys)
    assert code == 1
    assert row(lines, "accounts[analytics] approvers").endswith("unknown to Slack: U0TGTOWNER (account_inactive)")


def test_an_app_installed_without_the_email_scope_is_told_to_add_it(environ, slack, tmp_path, capsys):
    slack.workspace.scopes = {"commands", "chat:write", "users:read", "usergroups:read", "channels:read"}
    path = edited(tmp_path, "approvers: [U0SRCOWNER]", "approvers: [sam@dtsbot-sandbox.example]")
    code, lines = check(capsys, path)
    assert code == 1
    assert row(lines, "accounts[shop-prod] approvers").endswith(
        "unknown to Slack: sam@dtsbot-sandbox.example (missing_scope)")
    assert any("fix: Add the users:read.email and usergroups:read scopes" in line for line in lines)


def test_requesters_are_resolved_like_approvers_and_unknown_ones_reported(environ, tmp_path, capsys):
    """A typo in `requesters` means nobody may open a request: the check says so, top level and per account."""
    path = edited(tmp_path, "# requesters: [U0REQUESTER, S0DBAS]", "requesters: [req@typo.example]")
    path.write_text(path.read_text().replace("# requesters: [U0REQUESTER]",
                                             "requesters: [sam@dtsbot-sandbox.example, S0NOGROUP]"))
    code, lines = check(capsys, path)
    assert code == 1, "\n".join(lines)
    assert row(lines, "accounts[shop-prod] requesters").endswith(
        "unknown to Slack: S0NOGROUP (no_such_subteam)")
    assert row(lines, "✗ requesters").endswith("unknown to Slack: req@typo.example (users_not_found)")
    assert not any("accounts[analytics] requesters" in line for line in lines)  # none set: anyone may request


def test_known_requesters_are_ready(environ, tmp_path, capsys):
    path = edited(tmp_path, "# requesters: [U0REQUESTER, S0DBAS]", "requesters: [sam@dtsbot-sandbox.example]")
    code, lines = check(capsys, path)
    assert code == 0, "\n".join(lines)
    assert row(lines, "✓ requesters").split() == ["✓", "requesters", "sam@dtsbot-sandbox.example", "→", "U0SRCOWNER"]


def test_root_account_keys_are_ready_with_a_warning(environ, capsys):
    _code, lines = check(capsys)
    after = lines[lines.index(row(lines, "accounts[shop-prod] keys")) + 1]
    assert after.strip().startswith("warning: these are the root account's keys")
    assert "warning" not in lines[lines.index(row(lines, "executor 100000000021")) + 1]  # a sub-account's keys


def test_the_database_must_answer_with_the_schema_at_head(environ, tmp_path, capsys):
    environ.setenv("DTSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    code, lines = check(capsys)
    assert code == 1 and row(lines, "storage.url").endswith("missing.db: no database file yet")
    make_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect().close()
    environ.setenv("DTSBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    _code, lines = check(capsys)
    assert "schema at nothing, this version needs" in row(lines, "storage.url")
    environ.setenv("DTSBOT_DATABASE_URL", "postgresql+psycopg://dtsbot:hunter2@127.0.0.1:1/dtsbot")
    _code, lines = check(capsys)
    assert row(lines, "storage.url").startswith("✗") and "cannot connect" in row(lines, "storage.url")
    assert "hunter2" not in "\n".join(lines)


def test_the_app_token_is_asked_with_apps_connections_open(environ, slack, capsys):
    environ.setenv("SLACK_APP_TOKEN", "xapp-1-bogus")
    code, lines = check(capsys)
    assert code == 1 and row(lines, "slack.app_token").endswith("apps.connections.open answered invalid_auth")
    assert "xapp-1-bogus" not in "\n".join(lines)
    environ.setenv("SLACK_APP_TOKEN", slack.app_token)
    code, lines = check(capsys)
    assert code == 0 and "apps.connections.open accepts it" in row(lines, "slack.app_token")


def test_each_database_login_is_an_item_resolvable_or_why_not(environ, cloud, tmp_path, capsys):
    ssm_backend(cloud.world, "100000000002").create("dtsbot-db-dst", '{"user": "w", "password": "pw-in-ssm"}')
    text = APP_YAML.read_text().replace(
        "  cdb-dst00001:\n    user: dts_writer\n    password: ${TARGET_DB_PASSWORD:-sandbox-target-db-password}\n",
        "  cdb-dst00001:\n    login: ssm://dtsbot-db-dst\n  cdb-dst00002:\n    login: ssm://dtsbot-db-gone\n")
    path = tmp_path / "app.yaml"
    path.write_text(text + "secrets_manager:\n  account: analytics\n")
    code, lines = check(capsys, path)
    assert code == 1
    assert row(lines, "databases.cdb-src00001").endswith("user and password resolvable (app.yaml)")
    assert row(lines, "databases.cdb-dst00001").endswith("user and password resolvable (Secrets Manager)")
    assert "ResourceNotFound.SecretNotExist" in row(lines, "databases.cdb-dst00002")
    assert "pw-in-ssm" not in "\n".join(lines)



def test_keys_with_only_the_readmes_target_policy_are_ready_for_a_target_account(environ, tmp_path, capsys):
    """An account's side is not in app.yaml (any account may be either), and the README gives each side its own
    policy: a target's keys may run DTS but not read roles, a source's may manage roles but not read DTS. Keys
    that fit one side are ready; before, every managed account had to pass every probe (cam:GetRole,
    cam:ListPolicies, dts:DescribeMigrationJobs), so keys made as the README says were ✗ with the fix "attach the
    policy from the README"."""
    path = edited(tmp_path, '    executor_uin: "100000000021"\n', "")  # no sub-account runs tasks: no grant
    text = path.read_text()
    start = text.index("    executor_credentials:")
    path.write_text(text[:start] + text[text.index("\n\n", start) + 1:])
    # the target's keys: a sub-account with no CAM policy (the sandbox's DTS lets it list tasks)
    environ.setenv("TARGET_SECRET_ID", "AKIDSANDBOXTARGETSUB0000000000021")
    environ.setenv("TARGET_SECRET_KEY", "sandbox-target-sub-secret-key-0021")
    code, lines = check(capsys, path)
    target = row(lines, "accounts[analytics] permissions")
    assert code == 0, "\n".join(lines)
    assert target.startswith("✓") and "as a target account" in target, target
    warning = lines[lines.index(target) + 1].strip()
    assert warning.startswith("warning: not a source account: refused cam:GetRole"), warning


def documented_policies() -> dict[str, str]:
    """The two permission policies of docs/setup.md's "The accounts", by side (source first)."""
    setup = (Path(__file__).resolve().parents[2] / "docs" / "setup.md").read_text()
    section = setup[setup.index("## 2. The accounts"):setup.index("### Managed or guided")]
    source, target = [block.split("```")[0] for block in section.split("```json\n")[1:3]]
    return {"source": source, "target": target}


def test_each_side_needs_exactly_what_its_documented_policy_allows():
    """The sides check judges keys by (SIDES, GRANT) against the README's policies, evaluated as CAM does (the
    sandbox's evaluator): each side's policy allows all its side needs, and neither allows the other side's
    probe, which is why keys are judged by side."""
    role = f"qcs::cam::uin/<source root uin>:roleName/{PROBE_ROLE}"
    resource = {"cam:GetRole": role, "cam:CreateRole": role, "cam:DeleteRole": role, "cam:AttachRolePolicy": role,
                "cam:DetachRolePolicy": role, "cam:ListAttachedRolePolicies": role, "sts:AssumeRole": role}
    policies = documented_policies()
    needs = {"source": [*SIDES["source"][0], *SIDES["source"][1]],
             "target": [*SIDES["target"][0], *SIDES["target"][1], *GRANT[0], *GRANT[1]]}
    for side, actions in needs.items():
        denied = [a for a in actions if not allows([policies[side]], a, resource.get(a, "*"))]
        assert not denied, f"the README's {side} policy does not allow {denied}"
    assert not allows([policies["target"]], "cam:GetRole", role)
    assert not allows([policies["source"]], "dts:DescribeMigrationJobs", "*")
    assert not allows([policies["source"]], "cam:ListPolicies", "*")


def test_the_documented_target_policy_names_every_dts_action_the_bot_calls():
    """Each `dts` action the handlers and core call (`.call("Action"`) is in docs/setup.md's target policy, so keys
    made from it never meet an UnauthorizedOperation the bot did not announce (the compare, close-out and control
    actions were added after the policy was written)."""
    repo = Path(__file__).resolve().parents[2]
    called = {action for folder in ("handlers", "core") for path in (repo / folder).rglob("*.py")
              for action in re.findall(r'\.call\("([A-Z][A-Za-z]+)"', path.read_text())}
    dts = set(json.loads((repo / "sandbox" / "tencentcloud" / "api_schema.json").read_text())["dts"]["actions"])
    target = documented_policies()["target"]
    missing = sorted(a for a in called & dts if f'"dts:{a}"' not in target)
    assert not missing, f"docs/setup.md's target policy lacks {missing}"

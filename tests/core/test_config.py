"""core.config: env substitution, validation with key paths, the shipped app.yaml."""

from pathlib import Path

import pytest
import yaml

from core.config import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]


def minimal() -> dict:
    return {
        "slack": {"bot_token": "${SLACK_BOT_TOKEN}", "signing_secret": "s", "channel": "C0DTSBOT01"},
        "accounts": [
            {"name": "src", "uin": "100000000001", "approvers": ["U0SRCOWNER"]},
            {"name": "dst", "uin": "100000000002", "approvers": ["U0TGTOWNER", "S0DBAS"]},
        ],
    }


def problems(data: dict, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, environ if environ is not None else {"SLACK_BOT_TOKEN": "xoxb-1"})
    return caught.value.problems


def test_shipped_app_yaml_is_valid_for_the_sandbox():
    settings = load_settings(ROOT / "app.yaml", environ={})
    assert [a.name for a in settings.accounts] == ["shop-prod", "analytics"]
    assert settings.account("100000000002").executor_uin == "100000000021"
    assert settings.slack.bot_token.get_secret_value() == "xoxb-sandbox-bot-token"
    assert settings.slack.app_token is None and settings.slack.api_url is None
    assert settings.storage.url == "sqlite:///dtsbot.db"
    assert settings.scheduler.poll_seconds == 10
    assert settings.databases["cdb-src00001"].password.get_secret_value() == "sandbox-source-db-password"


def test_env_vars_override_defaults():
    settings = load_settings(ROOT / "app.yaml", environ={"SOURCE_SECRET_KEY": "real", "DTSBOT_PORT": "8080"})
    assert settings.accounts[0].credentials.secret_key.get_secret_value() == "real"
    assert settings.slack.port == 8080


def test_missing_env_var_is_named_with_its_key_path():
    assert problems(minimal(), environ={}) == ["slack.bot_token: ${SLACK_BOT_TOKEN} is not set (nor SLACK_BOT_TOKEN_FILE)"]


def test_secrets_are_not_printed():
    settings = parse_settings(minimal(), {"SLACK_BOT_TOKEN": "xoxb-very-secret"})
    assert "xoxb-very-secret" not in repr(settings) and "xoxb-very-secret" not in str(settings.slack)


def test_uin_must_be_digits_and_path_has_the_index():
    data = minimal()
    data["accounts"][1]["uin"] = "12ab"
    assert problems(data) == ["accounts[1].uin: must be digits"]


def test_unknown_key_and_wrong_type_and_missing_key_are_all_reported():
    data = minimal()
    data["slack"]["colour"] = "blue"
    data["slack"]["port"] = "eighty"
    del data["accounts"][0]["approvers"]
    found = problems(data)
    assert "slack.colour: unknown key" in found
    assert any(p.startswith("slack.port: ") and "integer" in p for p in found)
    assert "accounts[0].approvers: is required" in found


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("slack", "channel"), "#dts", "slack.channel: must be a Slack channel ID"),
        (("storage",), {"url": "mysql://x"}, "storage.url: must start with sqlite:/// or postgresql+psycopg://"),
        (("accounts", 0, "approvers"), ["bob"], "accounts[0].approvers: 'bob' is not a Slack user"),
        (("accounts", 0, "approvers"), ["alice@shop"], "accounts[0].approvers: 'alice@shop' is not a Slack user"),
        (("scheduler",), {"poll_seconds": 0}, "scheduler.poll_seconds: Input should be greater than 0"),
        (("scheduler",), {"approval_expiry_hours": 12, "approval_reminder_hours": 12},
         "scheduler: approval_reminder_hours (12) must be less than approval_expiry_hours (12)"),
        (("scheduler",), {"approval_reminder_hours": -1},
         "scheduler.approval_reminder_hours: Input should be greater than or equal to 0"),
        (("dts",), {"auto_retry_minutes": 3}, "dts.auto_retry_minutes: 3 is not allowed: DTS takes 5 to 720 minutes"),
        (("dts",), {"auto_retry_minutes": 721}, "dts.auto_retry_minutes: 721 is not allowed"),
    ],
)


def test_bad_values_name_key_and_rule(path, value, expected):
    data = minimal()
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    assert any(p.startswith(expected) for p in problems(data)), problems(data)


def test_approvers_and_requesters_may_be_email_addresses():
    data = minimal()
    data["accounts"][0]["approvers"] = ["alice@shop.com", "U0SRCOWNER"]
    data["requesters"] = ["dba@shop.com"]
    settings = parse_settings(data, {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert settings.accounts[0].approvers == ["alice@shop.com", "U0SRCOWNER"]
    assert settings.requesters == ["dba@shop.com"]


def test_duplicate_accounts_and_too_few_accounts():
    data = minimal()
    data["accounts"][1]["uin"] = "100000000001"
    assert any("duplicate uin 100000000001" in p for p in problems(data))
    data["accounts"] = data["accounts"][:1]
    assert any(p.startswith("accounts: ") for p in problems(data))


def test_executor_credentials_need_executor_uin():
    data = minimal()
    data["accounts"][1]["executor_credentials"] = {"secret_id": "a", "secret_key": "b"}
    assert any("executor_credentials needs executor_uin" in p for p in problems(data))


def test_postgresql_url_gets_the_psycopg_driver():
    data = minimal()
    data["storage"] = {"url": "postgresql://postgres@127.0.0.1/dtsbot"}
    settings = parse_settings(data, {"SLACK_BOT_TOKEN": "x"})
    assert settings.storage.url == "postgresql+psycopg://postgres@127.0.0.1/dtsbot"


def test_file_errors_are_messages_not_tracebacks(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("slack: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)
    broken.write_text("slack:\n  bot_token: xoxb-REAL-TOKEN\n  signing_secret: {a: REALSECRET: x}\n")
    with pytest.raises(ConfigError) as refused:  # a typo next to a secret: the place, never the file's text
        load_settings(broken)
    assert "line 3" in str(refused.value) and "REAL" not in str(refused.value)
    broken.write_text(yaml.safe_dump(["a", "list"]))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_settings(broken)


@pytest.mark.parametrize("key", ["signing_secret", "bot_token"])
@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_secret_or_token_is_refused_naming_the_key(key, empty):
    data = minimal()
    data["slack"][key] = empty
    assert problems(data) == [f"slack.{key}: must not be empty"]


def test_request_limits_default_and_are_bounded():
    settings = parse_settings(minimal(), {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert (settings.slack.requests_per_minute_per_user, settings.slack.requests_per_minute_per_channel) == (5, 20)
    data = minimal()
    data["slack"]["requests_per_minute_per_user"] = 0
    assert problems(data) == ["slack.requests_per_minute_per_user: Input should be greater than or equal to 1"]


def test_access_defaults_to_managed_and_guided_needs_no_credentials():
    data = minimal()
    data["accounts"][0].pop("credentials", None)
    data["accounts"][0]["access"] = "guided"
    settings = parse_settings(data, environ={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert [a.access for a in settings.accounts] == ["guided", "managed"]
    assert settings.accounts[0].credentials is None


def test_access_is_managed_or_guided():
    data = minimal()
    data["accounts"][0]["access"] = "manual"
    assert any(p.startswith("accounts[0].access:") for p in problems(data))


@pytest.mark.parametrize("minutes", [0, 5, 720])
def test_auto_retry_minutes_takes_the_documented_window_or_zero(minutes):
    data = {**minimal(), "dts": {"auto_retry_minutes": minutes}}
    assert parse_settings(data, {"SLACK_BOT_TOKEN": "x"}).dts.auto_retry_minutes == minutes
    assert parse_settings(minimal(), {"SLACK_BOT_TOKEN": "x"}).dts.auto_retry_minutes == 30


def test_experimental_engines_take_only_the_engines_outside_the_guide() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1"}
    listed = parse_settings({**minimal(), "dts": {"experimental_engines": ["MariaDB", "percona", "mariadb"]}}, env)
    assert listed.dts.experimental_engines == ["mariadb", "percona"]
    assert parse_settings(minimal(), env).dts.experimental_engines == []
    assert problems({**minimal(), "dts": {"experimental_engines": ["oracle"]}}) == [
        "dts.experimental_engines: 'oracle' is not an engine dtsbot knows; allowed: mariadb, percona"]
    assert problems({**minimal(), "dts": {"experimental_engines": ["mysql"]}}) == [
        ("dts.experimental_engines: 'mysql' is in the guide's cross-account scope already; list only engines "
        "outside it: mariadb, percona")]

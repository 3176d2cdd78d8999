"""The published sandbox secrets (app.yaml's defaults) are refused unless both endpoints are loopback addresses."""

from pathlib import Path

import pytest

from bot.check_operations import sandbox_items
from core.config import load_settings
from core.references import defaults
from core.sandbox_secrets import SANDBOX_SECRETS, points_at_sandbox, sandbox_secret_problems

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
SECRET_VARIABLES = ("TOKEN", "SECRET", "PASSWORD")


def test_every_secret_default_of_the_shipped_app_yaml_is_known_as_a_sandbox_value():
    shipped = {name: value for name, value in defaults(APP_YAML.read_text()).items()
               if any(word in name for word in SECRET_VARIABLES)}
    assert shipped and set(shipped.values()) <= SANDBOX_SECRETS


@pytest.mark.parametrize(("slack", "cloud", "sandbox"), [
    ("http://127.0.0.1:3001/api/", "127.0.0.1:4001", True),
    ("http://localhost:3001/api/", "[::1]:4001", True),
    ("http://127.0.0.1:3001/api/", None, False),  # the real Tencent Cloud
    (None, "127.0.0.1:4001", False),  # the real Slack
    ("http://10.0.0.5:3001/api/", "127.0.0.1:4001", False),
    ("http://127.0.0.1.example.com/api/", "127.0.0.1:4001", False),
])
def test_points_at_a_sandbox_only_when_both_endpoints_are_loopback(slack, cloud, sandbox):
    environ = {"SLACK_API_URL": slack or "", "TENCENTCLOUD_ENDPOINT": cloud or ""}
    settings = load_settings(APP_YAML, environ=environ)
    assert points_at_sandbox(settings) is sandbox
    assert bool(sandbox_secret_problems(settings)) is not sandbox


def test_each_sandbox_value_outside_a_sandbox_is_named_by_its_key_never_shown():
    settings = load_settings(APP_YAML, environ={"SLACK_SIGNING_SECRET": "a-real-one"})
    items = sandbox_items(settings)
    assert [i.what for i in items] == [
        "slack.bot_token", "accounts[0].credentials.secret_id", "accounts[0].credentials.secret_key",
        "accounts[1].credentials.secret_id", "accounts[1].credentials.secret_key",
        "accounts[1].executor_credentials.secret_id", "accounts[1].executor_credentials.secret_key",
        "databases.cdb-src00001.password", "databases.cdb-dst00001.password"]
    assert not any(value in str(items) for value in SANDBOX_SECRETS)

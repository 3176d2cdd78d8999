"""Secrets stay secret, and the cloud access granted is exactly what the plan says.

After a full run to Running with the target sub-account as executor (so the grant exists), the Slack emulator's
messages and recorded calls, the bot's log file and every row of every table are scanned for each configured
secret key, the Slack token and signing secret, each database password, and every temporary key and token
the sandbox's STS issued: none may appear. The external ID is shown to Slack only masked. In the sandbox's
CAM state, the role's trust policy names only the target root with the external-ID condition, and the
sub-account's grant allows `sts:AssumeRole` on the one role ARN only.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from flow import Cluster
from pydantic import BaseModel, SecretStr
from sqlalchemy import MetaData, select

from core.config import load_settings
from core.policies import role_arn
from tests.support.workspace import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN

ROLE = "DTS-role-scan"


def configured_secrets(cluster: Cluster) -> dict[str, str]:
    """Every secret in the replicas' settings (by key path), secret IDs excepted: they identify, not prove."""
    settings = load_settings(cluster.config, environ=cluster.replicas[0].env)
    found: dict[str, str] = {}

    def walk(value: object, path: str) -> None:
        if isinstance(value, SecretStr) and not path.endswith("secret_id") and value.get_secret_value():
            found[path] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{path}.{name}")
        elif isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                walk(item, f"{path}[{key}]")

    walk(settings, "settings")
    return found


def issued_credentials(cluster: Cluster) -> dict[str, str]:
    """TmpSecretKey and Token of every STS session the sandbox issued."""
    found: dict[str, str] = {}
    for number, session in enumerate(cluster.tencentcloud.world.sessions.values()):
        found[f"sts[{number}].TmpSecretKey"] = session.tmp_secret_key
        found[f"sts[{number}].Token"] = session.token
    return found


def database_text(cluster: Cluster) -> str:
    """Every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(cluster.db)
    with cluster.db.connect() as connection:
        return "\n".join(f"{table.name}: {tuple(row)}" for table in metadata.sorted_tables
                         for row in connection.execute(select(table)))


def slack_text(cluster: Cluster) -> str:
    """What the Slack emulator holds: every Web API call (arguments and answers), messages, ephemerals, views."""
    slack = cluster.slack
    return json.dumps({"calls": [asdict(call) for call in slack.calls], "messages": slack.messages(),
                       "ephemerals": slack.ephemerals(), "views": slack.views}, default=str)


def leaks(haystack: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, secret in secrets.items() if secret in haystack]


@pytest.mark.slow
def test_no_secret_in_slack_logs_or_database_and_access_is_exactly_the_plan(cluster: Cluster) -> None:
    bot = cluster.replica("bot")
    request_id = cluster.open_request(bot, f"role_name={ROLE} executor={EXECUTOR_UIN}")
    cluster.approve(bot, request_id)
    cluster.wait_running([request_id], timeout=60)
    cluster.wait_delivered()

    secrets = {**configured_secrets(cluster), **issued_credentials(cluster)}
    assert {"settings.slack.bot_token", "settings.slack.signing_secret",
            "settings.accounts[1].executor_credentials.secret_key", "settings.databases[cdb-src00001].password",
            "settings.databases[cdb-dst00001].password", "sts[0].TmpSecretKey", "sts[0].Token"} <= set(secrets)
    external_id = cluster.request(request_id).external_id
    assert external_id and external_id in database_text(cluster)  # the scans read what was really written
    assert request_id in cluster.logs() and request_id in slack_text(cluster)
    assert leaks(slack_text(cluster), secrets) == []
    assert leaks(cluster.logs(), secrets) == []
    assert leaks(database_text(cluster), secrets) == []
    assert external_id not in slack_text(cluster)  # shown masked

    world = cluster.tencentcloud.world
    trust = json.loads(world.cam(SOURCE_UIN).roles[ROLE].document)
    assert trust["statement"] == [{
        "action": "name/sts:AssumeRole", "effect": "allow",
        "principal": {"qcs": [f"qcs::cam::uin/{TARGET_UIN}:root"]},
        "condition": {"string_equal": {"sts:external_id": external_id}},
    }]
    target_cam = world.cam(TARGET_UIN)
    granted = [json.loads(target_cam.policy(policy_id).document)
               for policy_id in target_cam.user_policies.get(EXECUTOR_UIN, {})]
    assert granted == [{"version": "2.0", "statement": [{
        "effect": "allow", "action": ["name/sts:AssumeRole"], "resource": [role_arn(SOURCE_UIN, ROLE)]}]}]

"""`logging.level: DEBUG` is a documented setting, and the README promises that database passwords never reach a
log "(each password read is added to the log redactor)". Through `dtsbot serve`'s wiring (the real Bolt app over
signed HTTP, the scheduler with the real cloud steps, the real Tencent Cloud SDK against the sandbox and its
Secrets Manager): the database logins come from Secrets Manager, the log runs at DEBUG, a request runs to
Running; neither password appears in the log, in any form."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.config import LoggingSettings, SecretsManagerSettings
from core.logs import configure_logging
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.ssm.models import ssm_backend
from sandbox.tencentcloud.world import default_world
from tests.support.commands import INLINE
from tests.support.serving import Serving, serving
from tests.support.workspace import TARGET_UIN, serve_settings

PASSWORDS = {"cdb-src00001": 'Src-"quoted"-pw-4711', "cdb-dst00001": "Dst-plain-pw-4712"}
"""One password with a double quote (JSON escapes it), one plain."""
QUIET = {"sqlalchemy": "WARNING", "urllib3": "WARNING", "waitress": "WARNING", "slack_bolt": "INFO",
         "slack_sdk": "INFO"}
"""Loggers that have nothing to do with the cloud calls, kept quiet so the test stays fast."""


@pytest.fixture
def debug_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    yield buffer
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_dtsbot", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    for name in logging.root.manager.loggerDict:
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture
def story(tmp_path, debug_log: io.StringIO) -> Iterator[Serving]:
    world = default_world(speed=100.0)
    secrets = ssm_backend(world, TARGET_UIN)  # read with the target account's keys
    for instance, password in PASSWORDS.items():
        secrets.create(f"dtsbot-db-{instance}", json.dumps({"user": "dts", "password": password}))
    with SlackEmulator() as slack, TencentCloudSandbox(world) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'debug.db'}",
                                  databases={"*": {"login": "ssm://dtsbot-db-{instance}"}})
        settings = settings.model_copy(update={
            "secrets_manager": SecretsManagerSettings(account="analytics"),
            "logging": LoggingSettings(level="DEBUG", levels=QUIET)})
        configure_logging(settings, json=True)  # as `dtsbot serve` does before it builds the runtime
        with serving(settings, slack, cloud) as running:
            yield running


def test_database_passwords_from_secrets_manager_stay_out_of_a_debug_log(story: Serving,
                                                                          debug_log: io.StringIO) -> None:
    request_id = story.open(INLINE)
    story.approve(request_id)
    story.reaches(request_id, "running", "ready_to_complete")
    raw = debug_log.getvalue()
    messages = [json.loads(line).get("message", "") for line in raw.splitlines() if line.startswith("{")]
    log = raw + "\n".join(messages)  # each line as written, and its message as logged (one JSON layer less)
    assert request_id in log and '"level": "DEBUG"' in raw  # the log was written, at DEBUG
    forms = {f"{instance} {kind}": text for instance, password in PASSWORDS.items()
             for kind, text in (("as read", password), ("in JSON", json.dumps(password)[1:-1]),
                                ("in JSON in JSON", json.dumps(json.dumps(password))[1:-1]))}
    assert [name for name, text in forms.items() if text in log] == []

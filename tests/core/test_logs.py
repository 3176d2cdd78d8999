"""core.logs: secrets never reach the log output, whatever way they are passed."""

import io
import json
import logging
from pathlib import Path

import pytest

from core.config import ConfigError, load_settings, parse_settings
from core.logs import MASK, SecretRedactor, configure_logging, configured_secrets, redact_also

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def logged(monkeypatch):
    """Configure logging for the shipped app.yaml into a buffer; yield (logger, read_lines)."""
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    settings = load_settings(ROOT / "app.yaml", environ={})
    redactor = configure_logging(settings, json=True)
    yield logging.getLogger("dtsbot.test"), redactor, lambda: [json.loads(x) for x in buffer.getvalue().splitlines()]
    for handler in [h for h in logging.getLogger().handlers if getattr(h, "_dtsbot", False)]:
        logging.getLogger().removeHandler(handler)


def test_configured_secrets_are_masked_in_message_args_and_extra(logged):
    logger, _, lines = logged
    logger.info("calling with key %s", "sandbox-source-secret-key-0001", extra={"db": "sandbox-source-db-password"})
    logger.warning("token xoxb-sandbox-bot-token and signing secret sandbox-signing-secret")
    text = json.dumps(lines())
    for secret in ("sandbox-source-secret-key-0001", "sandbox-source-db-password", "xoxb-sandbox-bot-token",
                   "sandbox-signing-secret"):
        assert secret not in text
    assert lines()[0]["db"] == MASK and lines()[0]["level"] == "INFO"


def test_temporary_credentials_and_shapes_are_masked_even_unconfigured(logged):
    logger, _, lines = logged
    params = {"TmpSecretId": "AKIDtmp123", "TmpSecretKey": "tmpkey-abc", "TmpToken": "tok-xyz", "Region": "ap-guangzhou"}
    logger.info("ModifyMigrationJob %s", json.dumps(params), extra={"params": params})
    logger.error("boom: xapp-1-A0-xyz", extra={"request_id": "mr-abcdef"})
    text = json.dumps(lines())
    for secret in ("AKIDtmp123", "tmpkey-abc", "tok-xyz", "xapp-1-A0-xyz"):
        assert secret not in text
    assert "ap-guangzhou" in text and lines()[1]["request_id"] == "mr-abcdef"


def test_exception_tracebacks_are_redacted(logged):
    logger, _, lines = logged
    try:
        raise RuntimeError("password=hunter22 leaked")
    except RuntimeError:
        logger.exception("step failed")
    assert "hunter22" not in json.dumps(lines())


def test_redactor_keeps_ordinary_text():
    redactor = SecretRedactor(["s3cret-value"])
    assert redactor.redact("role DTS-role in 100000000001") == "role DTS-role in 100000000001"
    assert redactor.redact("password: s3cret-value") == f"password: {MASK}"


def test_every_configured_secret_is_collected():
    settings = load_settings(ROOT / "app.yaml", environ={})
    found = configured_secrets(settings)
    assert "sandbox-target-sub-secret-key-0021" in found and "sandbox-target-db-password" in found
    assert not any(s.startswith("AKID") for s in found)  # SecretIds identify keys; they are not secrets


def test_a_password_read_when_used_is_masked_too(logged):
    logger, _, lines = logged
    redact_also("rotated-db-password-from-ssm")
    logger.error("DTS said: login failed for rotated-db-password-from-ssm")
    assert "rotated-db-password-from-ssm" not in json.dumps(lines())


def test_log_levels_come_from_the_settings_with_apscheduler_at_warning_by_default(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    try:
        configure_logging(load_settings(ROOT / "app.yaml", environ={}), json=True)
        assert logging.getLogger().level == logging.INFO
        assert logging.getLogger("apscheduler").level == logging.WARNING  # its job chatter: two lines a poll
        path = tmp_path / "app.yaml"
        path.write_text((ROOT / "app.yaml").read_text()
                        + "logging:\n  level: debug\n  levels: {apscheduler: INFO, sqlalchemy.engine: ERROR}\n")
        configure_logging(load_settings(path, environ={}), json=True)
        assert logging.getLogger().level == logging.DEBUG
        assert logging.getLogger("apscheduler").level == logging.INFO
        assert logging.getLogger("sqlalchemy.engine").level == logging.ERROR
    finally:
        for name in ("apscheduler", "sqlalchemy.engine"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger().setLevel(logging.WARNING)
        for handler in [h for h in logging.getLogger().handlers if getattr(h, "_dtsbot", False)]:
            logging.getLogger().removeHandler(handler)


def test_an_unknown_log_level_names_the_key():
    with pytest.raises(ConfigError) as refused:
        parse_settings({"slack": {"bot_token": "x", "signing_secret": "y", "channel": "C0DTSBOT01"},
                        "accounts": [{"name": "a", "uin": "1", "approvers": ["U0A"]},
                                     {"name": "b", "uin": "2", "approvers": ["U0B"]}],
                        "logging": {"levels": {"apscheduler": "LOUD"}}}, environ={})
    assert refused.value.problems == [
        "logging.levels: 'LOUD' is not a log level; allowed: DEBUG, INFO, WARNING, ERROR, CRITICAL"]



def test_the_cloud_sdks_logger_never_logs_bodies():
    """The Tencent Cloud SDK logs whole requests and answers at DEBUG (passwords, temporary keys, Secrets Manager
    values): it stays at INFO under `logging.level: DEBUG`, and `logging.levels` may not lower it."""
    settings = {"slack": {"bot_token": "x", "signing_secret": "y", "channel": "C0DTSBOT01"},
                "accounts": [{"name": "a", "uin": "1", "approvers": ["U0A"]},
                             {"name": "b", "uin": "2", "approvers": ["U0B"]}]}
    loaded = parse_settings({**settings, "logging": {"level": "DEBUG"}}, environ={})
    assert loaded.logging.effective_levels()["tencentcloud_sdk_common"] == "INFO"
    with pytest.raises(ConfigError) as refused:
        parse_settings({**settings, "logging": {"levels": {"tencentcloud_sdk_common": "debug"}}}, environ={})
    assert refused.value.problems == [
        ("logging.levels: tencentcloud_sdk_common: DEBUG would log every Tencent Cloud request and answer whole, "
         "database passwords and temporary keys included; allowed: INFO or higher")]

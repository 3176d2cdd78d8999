"""The sandbox's Secrets Manager through the real SDK: versions, JSON secrets, the documented error codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.ssm.v20190923 import errorcodes

from core.config import Settings, parse_settings
from core.secrets import SecretsManager, SecretUnavailable
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.ssm import models
from tests.support.workspace import ACCOUNTS


def test_every_error_code_the_sandbox_answers_is_documented():
    documented = {value for name, value in vars(errorcodes).items() if name.isupper() and isinstance(value, str)}
    assert set(models.ERROR_CODES) <= documented
    source = Path(models.__file__).read_text()
    assert set(re.findall(r'TencentCloudError\("([A-Za-z.]+)"', source)) <= set(models.ERROR_CODES)


def settings(sandbox: TencentCloudSandbox, cache_seconds: float) -> Settings:
    return parse_settings({
        "slack": {"bot_token": "x", "signing_secret": "y", "channel": "C0DTSBOT01"},
        "tencentcloud": {"endpoint": sandbox.endpoint}, "accounts": ACCOUNTS,
        "secrets_manager": {"account": "shop-prod", "cache_seconds": cache_seconds}}, environ={})


@pytest.fixture
def manager():
    with TencentCloudSandbox() as sandbox:
        yield sandbox, SecretsManager(settings(sandbox, cache_seconds=0))


def test_the_newest_version_is_read_and_a_key_of_a_json_secret(manager):
    sandbox, secrets = manager
    backend = models.ssm_backend(sandbox.world, "100000000001")
    backend.create("db", '{"user": "u", "password": "one"}')
    assert secrets.read("ssm://db#password").value == "one"
    backend.rotate("db", {"user": "u", "password": "two"})
    read = secrets.read("ssm://db#password")
    assert (read.value, read.version) == ("two", "v2") and "two" not in repr(read)
    with pytest.raises(SecretUnavailable, match="the secret's JSON has no key 'pass'"):
        secrets.read("ssm://db#pass")
    with pytest.raises(SecretUnavailable) as missing:
        secrets.read("ssm://nope")
    assert isinstance(missing.value.cause, TencentCloudSDKException)
    assert str(missing.value).startswith("ssm://nope: Secrets Manager answered ResourceNotFound.SecretNotExist")


def test_a_read_is_cached_until_fresh_is_asked(manager):
    sandbox, _ = manager
    backend = models.ssm_backend(sandbox.world, "100000000001")
    backend.create("token", "first")
    secrets = SecretsManager(settings(sandbox, cache_seconds=3600))
    assert secrets.read("ssm://token").value == "first"
    backend.rotate("token", "second")
    assert secrets.read("ssm://token").value == "first"
    assert secrets.read("ssm://token", fresh=True).value == "second"


"""The published sandbox secrets (the `:-defaults` of the shipped app.yaml) are for the sandbox only.

`dtsbot serve` and `dtsbot check` refuse a Slack token, signing secret, API key or database password equal to
one of them unless the configuration points at a sandbox: **both** `slack.api_url` and `tencentcloud.endpoint`
are set, and each names a loopback host (`localhost`, 127.0.0.0/8, `::1`). Anything else may be reachable by
Slack or be the real Tencent Cloud, where a value everyone can read from this repository is no secret.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import SecretStr

from core.config import Credentials, Settings

SANDBOX_SECRETS = frozenset({
    "xoxb-sandbox-bot-token", "sandbox-signing-secret",
    "AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001",
    "AKIDSANDBOXTARGET0000000000000002", "sandbox-target-secret-key-0002",
    "AKIDSANDBOXTARGETSUB0000000000021", "sandbox-target-sub-secret-key-0021",
    "sandbox-source-db-password", "sandbox-target-db-password",
})
"""Every secret default of the shipped app.yaml (tests/core/test_sandbox_secrets.py keeps them in step)."""


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine: `localhost` or a loopback address."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def points_at_sandbox(settings: Settings) -> bool:
    """Both Slack's API and Tencent Cloud's are set to loopback addresses (the sandboxes of `dtsbot demo`)."""
    slack, cloud = settings.slack.api_url, settings.tencentcloud.endpoint
    return bool(slack and cloud) and is_loopback(urlsplit(slack or "").hostname) \
        and is_loopback(urlsplit(f"//{cloud}").hostname)


def _keys(prefix: str, keys: Credentials | None) -> list[tuple[str, SecretStr]]:
    return [] if keys is None else [(f"{prefix}.secret_id", keys.secret_id), (f"{prefix}.secret_key", keys.secret_key)]


def sandbox_secret_problems(settings: Settings) -> list[str]:
    """`key.path: why` for each secret that is a published sandbox value, unless the endpoints are a sandbox's."""
    if points_at_sandbox(settings):
        return []
    slack = settings.slack
    found: list[tuple[str, SecretStr | None]] = [
        ("slack.bot_token", slack.bot_token), ("slack.signing_secret", slack.signing_secret),
        ("slack.app_token", slack.app_token)]
    for index, account in enumerate(settings.accounts):
        found += _keys(f"accounts[{index}].credentials", account.credentials)
        found += _keys(f"accounts[{index}].executor_credentials", account.executor_credentials)
    found += [(f"databases.{instance}.password", login.password) for instance, login in settings.databases.items()]
    return [f"{key}: is a published sandbox value (a default in the shipped app.yaml); set the variable app.yaml "
            "names for it. Sandbox values are accepted only when slack.api_url and tencentcloud.endpoint both "
            "point at a loopback address"
            for key, secret in found if secret is not None and secret.get_secret_value() in SANDBOX_SECRETS]

"""The sandbox workspace the tests play in: the channel, the people, the two accounts and the bot's settings
(the Bolt app alone, or all of `dtsbot serve` on the sandboxes)."""

from __future__ import annotations

from typing import Any

from core.config import Settings, parse_settings
from sandbox.slack.emulator import SlackEmulator

CHANNEL = "C0DTSBOT01"
SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
REQUESTER, SOURCE_OWNER, TARGET_OWNER, STRANGER = "U0REQUESTER", "U0SRCOWNER", "U0TGTOWNER", "U0STRANGER"
GROUP_MEMBER = "U0GROUPIE"
TARGET_OWNERS_GROUP = "S0TGTOWNERS"
USERS = {REQUESTER: "Riley Requester", SOURCE_OWNER: "Sam Source-Owner", TARGET_OWNER: "Tara Target-Owner",
         STRANGER: "Stan Stranger", "U0DTSBOT": "dtsbot", GROUP_MEMBER: "Gail Groupie"}
USERGROUPS = {TARGET_OWNERS_GROUP: [GROUP_MEMBER]}
SOURCE_UIN, TARGET_UIN, EXECUTOR_UIN = "100000000001", "100000000002", "100000000021"

ACCOUNTS = [
    {"name": "shop-prod", "uin": SOURCE_UIN, "approvers": [SOURCE_OWNER],
     "credentials": {"secret_id": "AKIDSANDBOXSOURCE0000000000000001", "secret_key": "sandbox-source-secret-key-0001"}},
    {"name": "analytics", "uin": TARGET_UIN, "approvers": [TARGET_OWNER], "executor_uin": EXECUTOR_UIN,
     "credentials": {"secret_id": "AKIDSANDBOXTARGET0000000000000002", "secret_key": "sandbox-target-secret-key-0002"},
     "executor_credentials": {"secret_id": "AKIDSANDBOXTARGETSUB0000000000021",
                              "secret_key": "sandbox-target-sub-secret-key-0021"}},
]
"""The sandbox's default world as configured accounts, with the keys the Tencent Cloud sandbox knows."""

FIRST_PAIR_LOGINS = {"cdb-src00001": {"user": "dts_reader", "password": "sandbox-source-db-password"},
                     "cdb-dst00001": {"user": "dts_writer", "password": "sandbox-target-db-password"}}

ANY_INSTANCE_LOGIN = {"*": {"user": "dts", "password": "sandbox-any-instance-db-password"}}
"""The Bolt-only tests' database login for every instance (a request is refused without one)."""

UNLIMITED = {"requests_per_minute_per_user": 10_000, "requests_per_minute_per_channel": 10_000}
"""Tests open many requests quickly (hostile-input tests thousands); the limits' own tests set them low."""


EVIDENCE_IN = {"cutover_evidence": [{"item": "lag", "ok": True, "state": "held", "held": "5", "needed": "5"},
                                     {"item": "compare", "ok": True, "state": "same", "status": "success",
                                      "method": "dataCheck"},
                                     {"item": "window", "ok": True, "state": "none"}]}
"""The facts of a ready request whose cutover gate is open (core.cutover), for tests that put it there."""
OPEN_GATE = {"hold_minutes": 0, "compare": "off"}
"""The cutover gate of the stories that are not about it: the lag need not hold, no consistency check is asked for
(tests/bot/test_cutover_gate.py drives the gate itself with its defaults)."""


def bot_settings(api_url: str, database_url: str, top_level: dict[str, Any] | None = None, *,
                 slack: dict[str, Any] | None = None, **account_overrides: Any) -> Settings:
    """The workspace as the bot's settings (no cloud endpoint); `account_overrides` apply to both accounts,
    `top_level` to the file's top level (e.g. `requesters`), `slack` keys override the slack section."""
    return parse_settings({
        "databases": ANY_INSTANCE_LOGIN,
        "cutover": OPEN_GATE,
        **(top_level or {}),
        "slack": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "channel": CHANNEL,
                  "api_url": api_url, "port": 0, "listener_threads": 16, **UNLIMITED, **(slack or {})},
        "storage": {"url": database_url},
        "accounts": [
            {"name": "shop-prod", "uin": SOURCE_UIN, "approvers": [SOURCE_OWNER], **account_overrides},
            {"name": "analytics", "uin": TARGET_UIN, "approvers": [TARGET_OWNER, TARGET_OWNERS_GROUP],
             "executor_uin": EXECUTOR_UIN, **account_overrides},
        ],
    }, environ={})


def serve_settings(slack: SlackEmulator, cloud_endpoint: str, database_url: str, *,
                   databases: dict[str, dict[str, str]] | None = None, cutover: dict[str, Any] | None = None,
                   **slack_overrides: Any) -> Settings:
    """`dtsbot serve`'s settings on the sandboxes: the workspace's accounts with keys, a fast scheduler, and
    the database logins (`databases`, default: the first MySQL pair, and any other instance)."""
    return parse_settings({
        "slack": {"bot_token": slack.token, "signing_secret": SIGNING_SECRET, "channel": CHANNEL,
                  "api_url": slack.base_url, "port": 0, **slack_overrides},
        "storage": {"url": database_url},
        "scheduler": {"poll_seconds": 0.5},
        "tencentcloud": {"endpoint": cloud_endpoint, "region": "ap-guangzhou"},
        "accounts": ACCOUNTS,
        "databases": databases or {**FIRST_PAIR_LOGINS, **ANY_INSTANCE_LOGIN},
        "cutover": OPEN_GATE if cutover is None else cutover,
    }, environ={})

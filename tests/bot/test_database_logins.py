"""Fail before spending: a request whose instances have no usable database login is refused when it is opened or
edited, before any approval (through the real Bolt app and the Slack emulator); the reply names the instance and
the key to add, never a password."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER

LOGINS = {"cdb-src00001": {"user": "dts_reader", "password": "pw-source-0001"},
          "cdb-dst00001": {"user": "dts_writer", "password": "pw-target-0001"},
          "cdb-src00002": {"user": "dts_reader", "password": "pw-source-0002"}}


@pytest.fixture
def top_level() -> dict[str, Any]:
    # no "*" entry: cdb-dst00002 (the world's Percona, outside the guide's scope unless listed) has no login
    return {"databases": LOGINS, "dts": {"experimental_engines": ["percona"]}}


def test_a_request_into_an_instance_without_a_login_is_refused_at_open(bot: Bot) -> None:
    before = len(bot.slack.ephemerals(REQUESTER))
    assert bot.driver.slash(REQUESTER, inline(source_instance="cdb-src00002", target_instance="cdb-dst00002",
                                              db_type="percona")).status == 200
    reply = bot.ephemeral_after(REQUESTER, before)["text"]
    assert reply.startswith("Nothing was created. No usable database login for cdb-dst00002 (database login for "
                            "`cdb-dst00002`: app.yaml has no databases.cdb-dst00002")
    assert not bot.requests.open_requests() and "pw-" not in reply


def test_an_edit_into_an_instance_without_a_login_is_refused_and_changes_nothing(bot: Bot) -> None:
    request_id = bot.create()
    fields = {**{f: getattr(bot.request(request_id), f) for f in ("source_account", "source_region",
                                                                 "source_instance", "target_account",
                                                                 "target_region", "db_type", "role_name",
                                                                 "external_id", "executor", "migrate_type",
                                                                 "objects")},
              "target_instance": "cdb-dst00002"}
    decision = bot.requests.edit(request_id, REQUESTER, fields)
    assert not decision.ok and "No usable database login for cdb-dst00002" in decision.message
    assert bot.request(request_id).target_instance == "cdb-dst00001"

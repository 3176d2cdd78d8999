"""One unfinished request per target instance (inline, form, edit; two at once), and a warning in the plan when
two open requests read the same source instance."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from core.requests import MigrationRequests
from sandbox.waiting import eventually
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, bot_settings

FORM = {"source_account": "shop-prod", "source_region": "ap-guangzhou", "source_instance": "cdb-src00002",
        "target_account": "analytics", "target_region": "ap-guangzhou", "target_instance": "cdb-dst00001",
        "db_type": "mysql"}
FIELDS = {**FORM, "role_name": "DTS-role", "external_id": None, "executor": "root",
          "migrate_type": "fullAndIncrement", "objects": "all"}  # validated, as MigrationRequests takes them


def refused_inline(bot: Bot, text: str, user: str = REQUESTER) -> str:
    count = len(bot.slack.ephemerals(user))
    bot.driver.slash(user, text)
    return bot.ephemeral_after(user, count)["text"]


def test_a_second_request_into_one_target_instance_is_refused_naming_the_first(bot: Bot) -> None:
    first = bot.create()
    answer = refused_inline(bot, inline(source_instance="cdb-src00002"), user=SOURCE_OWNER)
    assert answer.startswith("Nothing was created. Target instance cdb-dst00001 already has an unfinished "
                             f"request: {first} (requested).")
    assert [r.id for r in bot.all_requests()] == [first]
    assert bot.create(inline(target_instance="cdb-dst00002"))  # another target is free

    bot.requests.cancel(first, REQUESTER)  # the first ends: its target is free again
    assert bot.create(inline(source_instance="cdb-src00002"))


def test_the_form_is_refused_the_same_way(bot: Bot) -> None:
    first = bot.create()
    bot.driver.slash(REQUESTER, "")
    [view] = bot.slack.wait_for(lambda: bot.slack.views)
    count = len(bot.slack.ephemerals(REQUESTER))
    assert bot.driver.submit_view(REQUESTER, view, FORM).status == 200
    answer = bot.ephemeral_after(REQUESTER, count)["text"]
    assert f"already has an unfinished request: {first}" in answer
    assert len(bot.all_requests()) == 1


def test_an_edit_into_an_occupied_target_is_refused(bot: Bot) -> None:
    first, second = bot.create(), bot.create(inline(target_instance="cdb-dst00002", source_instance="cdb-src00002"))
    decision = bot.requests.edit(second, REQUESTER, {**FIELDS, "target_instance": "cdb-dst00002", "objects": "shop"})
    assert decision.ok and bot.request(second).objects == "shop"
    refused = bot.requests.edit(second, REQUESTER, FIELDS)
    assert f"request: {first}" in refused.message and bot.request(second).target_instance == "cdb-dst00002"


def test_two_requests_reading_one_source_instance_get_a_warning_in_the_plan(bot: Bot) -> None:
    first = bot.create()
    second = bot.create(inline(target_instance="cdb-dst00002"))
    plan = next(b for b in bot.posted(second)["blocks"] if b.get("block_id") == "plan")["text"]["text"]
    assert f"`cdb-src00001` is also the source of {first} (still open)" in plan
    third = bot.create(inline(target_instance="cdb-dst00003", source_instance="cdb-src00003"))
    assert "Same source" not in str(bot.posted(third)["blocks"])


def test_two_submissions_at_once_open_one_request(engine: Engine) -> None:
    """On SQLite and PostgreSQL: the check and the insert are one transaction under the target's lock."""
    settings = bot_settings("http://127.0.0.1:1/api/", str(engine.url))
    requests = MigrationRequests(engine, settings)
    start, decisions = threading.Barrier(8), []

    def submit(n: int) -> None:
        start.wait()
        decisions.append(requests.open({**FIELDS, "source_instance": f"cdb-src{n:05d}"}, REQUESTER))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    eventually(lambda: len(decisions) == 8)
    [opened] = [d for d in decisions if d.ok]
    assert all(f"unfinished request: {opened.request.id}" in d.message for d in decisions if not d.ok)

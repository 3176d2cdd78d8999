"""An unfinished request holds both its instances (core.holds): no new request, and no edit, may write into an
instance another unfinished request reads or writes, and the refusal names it; a request that reads another's
target gets a warning in its plan. Checked in the transaction that writes, under a lock per instance, so two
conflicting requests opened at once (two replicas) cannot both pass. On SQLite and PostgreSQL, through the real
Bolt app over HTTP."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from core import validation
from core.requests import MigrationRequests
from sandbox.waiting import eventually
from storage.db import make_engine
from tests.support.commands import inline
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, bot_settings

A = inline()  # shop-prod cdb-src00001 → analytics cdb-dst00001
INTO_AS_SOURCE = inline(source_account="analytics", source_instance="cdb-dst00002", target_account="shop-prod",
                        target_instance="cdb-src00001")
"""B: it would overwrite the instance A reads from."""
FROM_AS_TARGET = inline(source_account="analytics", source_instance="cdb-dst00001", target_account="shop-prod",
                        target_instance="cdb-src00003")
"""C: it would copy the instance A is writing into."""


@pytest.fixture
def db(engine: Engine) -> Engine:
    return engine


def answer_to(bot: Bot, text: str, user: str = REQUESTER) -> str:
    count = len(bot.slack.ephemerals(user))
    assert bot.driver.slash(user, text).status == 200
    return bot.ephemeral_after(user, count)["text"]


def plan(bot: Bot, request_id: str) -> str:
    return next(b for b in bot.posted(request_id)["blocks"] if b.get("block_id") == "plan")["text"]["text"]


def test_a_request_into_another_ones_source_is_refused_naming_it(bot: Bot) -> None:
    first = bot.create(A)
    answer = answer_to(bot, INTO_AS_SOURCE, SOURCE_OWNER)
    assert answer == (f"Nothing was created. Target instance cdb-src00001 is the source of unfinished request {first} "
                      f"(requested): writing into it would change the data {first} is migrating. Wait until {first} "
                      f"ends, or cancel it with /dts-migrate cancel {first}.")
    assert [r.id for r in bot.all_requests()] == [first]
    assert bot.all_refusals() == [(SOURCE_OWNER, "request", None)]
    bot.requests.cancel(first, REQUESTER)  # A ends: its source is free to be written
    assert bot.create(INTO_AS_SOURCE)


def test_a_request_reading_another_ones_target_is_warned_in_its_plan(bot: Bot) -> None:
    first = bot.create(A)
    second = bot.create(FROM_AS_TARGET)
    assert (f":warning: *Source still being written:* `cdb-dst00001` is the target of {first} (still open): this "
            "migration would copy data that is still being migrated into it.") in plan(bot, second)
    assert "Same source" not in plan(bot, second)
    # A reads cdb-src00001, C writes cdb-src00003: nothing for A to be told
    assert ":warning:" not in plan(bot, first)


def test_the_same_source_warning_stays(bot: Bot) -> None:
    first = bot.create(A)
    second = bot.create(inline(target_instance="cdb-dst00002"))
    assert f"`cdb-src00001` is also the source of {first} (still open)" in plan(bot, second)
    assert "Source still being written" not in plan(bot, second)


def test_an_edit_into_a_held_instance_is_refused_through_the_form(bot: Bot) -> None:
    first = bot.create(A)
    second = bot.create(inline(source_account="analytics", source_instance="cdb-dst00004",
                               target_account="shop-prod", target_instance="cdb-src00004"))
    message = bot.posted(second)
    for target, held_as in (("cdb-src00001", "is the source of unfinished request"),
                            ("cdb-dst00001", None)):
        count, views = len(bot.slack.ephemerals(REQUESTER)), len(bot.slack.views)  # before the click: it may be fast
        assert bot.driver.click(REQUESTER, message, "edit").status == 200
        view = bot.slack.wait_for(lambda views=views: bot.slack.views[views:])[0]
        if held_as is None:  # point the edit at A's target: its source (analytics) must be in that account
            values = {"source_account": "shop-prod", "source_instance": "cdb-src00004",
                      "target_account": "analytics", "target_instance": target}
        else:
            values = {"target_instance": target}
        assert bot.driver.submit_view(REQUESTER, view, values).status == 200
        refused = bot.ephemeral_after(REQUESTER, count)["text"]
        assert f"Target instance {target} " in refused and first in refused, refused
        assert bot.request(second).revision == 1 and bot.request(second).target_instance == "cdb-src00004"


FIELDS = {**validation.OPTIONAL_DEFAULTS, **dict(pair.split("=", 1) for pair in A.split())}


def test_two_replicas_opening_crossed_requests_at_once_open_one(engine: Engine) -> None:
    """A (s → t) and B (t → s): whichever commits first, the other writes into an instance the first holds. They
    share no target, so only the lock on both instances of each request makes one wait for the other's commit
    and see it. Rounds of two at once, from two engines (two replicas)."""
    url = engine.url.render_as_string(hide_password=False)
    settings = bot_settings("http://127.0.0.1:1/api/", url)
    replicas = [MigrationRequests(make_engine(url), settings) for _ in range(2)]
    for n in range(8):
        source, target = f"cdb-src1{n:04d}", f"cdb-dst1{n:04d}"
        pair = [{**FIELDS, "source_instance": source, "target_instance": target},
                {**FIELDS, "source_account": "analytics", "source_instance": target, "target_account": "shop-prod",
                 "target_instance": source}]
        start, decisions = threading.Barrier(2), []

        def submit(replica: MigrationRequests, fields: dict, start: threading.Barrier = start,
                   decisions: list = decisions) -> None:
            start.wait()
            decisions.append(replica.open(fields, REQUESTER))

        threads = [threading.Thread(target=submit, args=args) for args in zip(replicas, pair, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        eventually(lambda decisions=decisions: len(decisions) == 2)
        [opened] = [d for d in decisions if d.ok]
        [refused] = [d for d in decisions if not d.ok]
        assert opened.request is not None and opened.request.id in refused.message, refused.message
    for replica in replicas:
        replica.db.dispose()

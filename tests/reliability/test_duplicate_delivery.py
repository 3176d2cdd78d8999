"""Duplicate delivery: every slash command and click delivered 2–4 times, some at once, some as Slack's retries
(X-Slack-Retry-Num): one request, one approval per side, one kick of the workflow (the cloud work starts once;
test_crash_resume and the process tests count the cloud changes themselves)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from storage.db import session_scope
from storage.models import Approval
from tests.support.commands import INLINE
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER, TARGET_OWNER


def deliver_again(bot: Bot, copies: int, concurrent: bool) -> None:
    """The last delivery again `copies - 1` times, as Slack retries (numbered) or at once (no header)."""
    sent = bot.driver.sent[-1]
    if concurrent:
        with ThreadPoolExecutor(copies) as pool:
            answers = list(pool.map(lambda _i: bot.driver.again(sent), range(copies - 1)))
    else:
        answers = [bot.driver.again(sent, retry_num=n, retry_reason="http_timeout") for n in range(1, copies)]
    assert {a.status for a in answers} == {200}


def test_every_command_and_click_delivered_several_times_counts_once(bot: Bot) -> None:
    shuffle = random.Random(8)
    ids = []
    for round_number in range(6):
        copies, concurrent = shuffle.randint(2, 4), round_number % 2 == 0
        before = len(bot.slack.ephemerals(REQUESTER))
        target = INLINE.replace("cdb-dst00001", f"cdb-dst{round_number + 101:05d}")  # one open request per target
        assert bot.driver.slash(REQUESTER, f"{target} role_name=role-{round_number}").status == 200
        deliver_again(bot, copies, concurrent)
        bot.slack.wait_for(lambda n=before + copies: len(bot.slack.ephemerals(REQUESTER)) >= n)
        created = [r for r in bot.all_requests() if r.role_name == f"role-{round_number}"]
        assert len(created) == 1
        ids.append(created[0].id)
        message = bot.posted(created[0].id)
        for user, action in ((SOURCE_OWNER, "approve_source"), (TARGET_OWNER, "approve_target")):
            assert bot.driver.click(user, message, action).status == 200
            deliver_again(bot, shuffle.randint(2, 4), not concurrent)
    bot.slack.wait_for(lambda: sorted(set(bot.kicked)) == sorted(ids))
    with session_scope(bot.db) as session:
        rows = session.exec(select(Approval.request_id, Approval.side)).all()
    assert sorted(rows) == sorted((rid, side) for rid in ids for side in ("source", "target"))
    assert sorted(bot.kicked) == sorted(ids)  # the workflow is started once per request
    assert {r.state for r in bot.all_requests()} == {"approved"}

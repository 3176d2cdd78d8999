"""The notifier: request message first, notices in order under it, ≤ 1 post/s per channel, 429/5xx survived."""

from __future__ import annotations

import time

from sqlmodel import select

from bot.notifier import Notifier
from core import validation
from core.requests import EDITABLE_FIELDS
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.support.commands import INLINE
from tests.support.harness import Bot
from tests.support.workspace import CHANNEL, REQUESTER, SOURCE_OWNER, TARGET_OWNER


def open_request(bot: Bot) -> str:
    fields, errors = validation.validate_request(dict(t.split("=", 1) for t in INLINE.split()),
                                                 bot.settings.accounts)
    assert not errors
    return bot.requests.open(fields, REQUESTER).request.id


def queue(bot: Bot, request_id: str, *texts: str) -> None:
    with session_scope(bot.db) as session:
        for text in texts:
            outbox.enqueue(session, request_id, f"{request_id}:{text}", "thread", {"event": "test", "text": text})


def test_notices_wait_for_the_request_message_and_keep_their_order(bot: Bot) -> None:
    request_id = open_request(bot)
    queue(bot, request_id, "one", "two")
    bot.slack.faults.rate_limit("chat.postMessage", count=3, retry_after=0)  # beyond the client's 2 retries
    assert bot.notifier.flush() == 0
    assert bot.slack.messages() == [] and bot.request(request_id).message_ts is None
    assert bot.notifier.flush() == 3
    [message] = bot.slack.messages()
    assert [m["text"] for m in bot.slack.thread("C0DTSBOT01", message["ts"])] == ["one", "two"]
    assert bot.notifier.flush() == 0  # each once


def test_server_errors_are_retried_by_the_client_and_nothing_is_duplicated(bot: Bot) -> None:
    request_id = open_request(bot)
    queue(bot, request_id, "one")
    bot.slack.faults.server_error("chat.postMessage", count=2)
    assert bot.notifier.flush() == 2
    assert len(bot.slack.messages()) == 1
    assert [c.status for c in bot.slack.calls if c.method == "chat.postMessage"] == [500, 500, 200, 200]


def test_at_most_one_post_per_second_per_channel(bot: Bot) -> None:
    request_id = open_request(bot)
    queue(bot, request_id, "one", "two")
    notifier = Notifier(bot.notifier.client, bot.db, bot.settings, owner="paced")
    started = time.monotonic()
    assert notifier.flush() == 3
    assert time.monotonic() - started >= 1.9
    assert bot.slack.max_posts_in_window("C0DTSBOT01", window=0.95) == 1


def test_refreshes_update_the_message_in_place(bot: Bot) -> None:
    request_id = open_request(bot)
    bot.notifier.flush()
    ts = bot.request(request_id).message_ts
    bot.requests.cancel(request_id, REQUESTER)
    bot.notifier.flush()
    assert len(bot.slack.messages()) == 1 and len(bot.slack.history(ts)) == 1
    assert "Cancelled" in str(bot.slack.message(ts)["blocks"])


def test_a_posted_request_message_is_not_posted_again(bot: Bot) -> None:
    """A crash after Slack accepted the post but before the outbox row was marked: the ts on the request wins."""
    open_request(bot)
    bot.notifier.flush()
    with session_scope(bot.db) as session:
        session.execute(OutboxMessage.__table__.update().values(sent_at=None))
    bot.notifier.flush()
    assert len(bot.slack.messages()) == 1


def test_a_notice_posted_by_a_replica_that_died_before_marking_it_is_not_posted_again(bot: Bot) -> None:
    request_id = open_request(bot)
    queue(bot, request_id, "one", "two")
    assert bot.notifier.flush() == 3
    with session_scope(bot.db) as session:  # as if the replica died after Slack accepted "one"
        one = session.exec(select(OutboxMessage).where(OutboxMessage.key == f"{request_id}:one")).one()
        one.sent_at, one.result_ts = None, None
    [parent] = bot.slack.messages()
    posted = {m["text"]: m["ts"] for m in bot.slack.thread("C0DTSBOT01", parent["ts"])}
    assert bot.notifier.flush() == 1
    assert [m["text"] for m in bot.slack.thread("C0DTSBOT01", parent["ts"])] == ["one", "two"]
    with session_scope(bot.db) as session:
        assert outbox.pending_count(session) == 0
        one = session.exec(select(OutboxMessage).where(OutboxMessage.key == f"{request_id}:one")).one()
        assert one.result_ts == posted["one"]
    assert [c.method for c in bot.slack.calls].count("conversations.replies") == 1


def test_a_notice_brings_the_message_up_to_it_and_a_failed_update_is_retried_as_a_refresh(bot: Bot) -> None:
    request_id = open_request(bot)
    bot.notifier.flush()
    ts = bot.request(request_id).message_ts
    bot.requests.cancel(request_id, REQUESTER)  # a transition with its thread notice
    with session_scope(bot.db) as session:
        assert not outbox.request_refresh(session, request_id)  # the notice will render the message
    bot.slack.faults.rate_limit("chat.update", count=3, retry_after=0)  # beyond the client's 2 retries
    bot.notifier.flush()
    [notice] = bot.slack.thread("C0DTSBOT01", ts)
    assert "Cancelled" not in str(bot.slack.message(ts)["blocks"])  # Slack refused the update
    bot.notifier.flush()
    assert "Cancelled" in str(bot.slack.message(ts)["blocks"]) and len(bot.slack.history(ts)) == 1
    assert bot.slack.thread("C0DTSBOT01", ts) == [notice]  # the notice itself is not posted again


def _update_fails_after_the_first_notice(bot: Bot, request_id: str) -> str:
    """The request message is posted and the source approves; "Source side approved." reaches the thread but the
    message update after it fails, so a refresh waits (a later notice coalesces with it). Returns the message ts."""
    message = bot.posted(request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    bot.slack.faults.rate_limit("chat.update", count=3, retry_after=0)  # beyond the client's 2 retries
    bot.notifier.flush()
    assert [m["text"] for m in bot.slack.thread(CHANNEL, message["ts"])] == [
        f"Source side approved. (<@{SOURCE_OWNER}>)"]
    return message["ts"]


def test_the_message_does_not_show_an_approval_the_thread_has_not_announced(bot: Bot) -> None:
    request_id = bot.create()
    ts = _update_fails_after_the_first_notice(bot, request_id)
    bot.click(TARGET_OWNER, bot.slack.message(ts), "approve_target")  # its notice coalesces with that refresh
    bot.slack.faults.rate_limit("chat.postMessage", count=3, retry_after=0)  # Slack throttles posts a while
    bot.notifier.flush()  # the refresh goes out (chat.update works); the target's notice does not

    assert not any("Target side approved" in m["text"] for m in bot.slack.thread(CHANNEL, ts))
    shown = str(bot.slack.message(ts)["blocks"])
    assert f"approved by <@{SOURCE_OWNER}>" in shown  # what the thread did say
    assert f"approved by <@{TARGET_OWNER}>" not in shown, "the message shows the target approval ahead of the thread"
    bot.notifier.flush()  # Slack takes posts again: the notice, then the message brought up to it
    assert any("Target side approved" in m["text"] for m in bot.slack.thread(CHANNEL, ts))
    assert f"approved by <@{TARGET_OWNER}>" not in str(bot.slack.message(ts)["blocks"])  # approved: no lines
    assert "Approved, starting" in str(bot.slack.message(ts)["blocks"])


def test_the_message_does_not_show_a_plan_edit_the_thread_has_not_announced(bot: Bot) -> None:
    request_id = bot.create()
    ts = _update_fails_after_the_first_notice(bot, request_id)
    fields = {n: getattr(bot.request(request_id), n) for n in EDITABLE_FIELDS}
    assert bot.requests.edit(request_id, REQUESTER, {**fields, "role_name": "DTS-role-2", "objects": "shop"}).changed
    bot.slack.faults.rate_limit("chat.postMessage", count=3, retry_after=0)
    bot.notifier.flush()  # the refresh goes out; "Edited (plan revision 2)" does not

    assert not any("Edited" in m["text"] for m in bot.slack.thread(CHANNEL, ts))
    shown = str(bot.slack.message(ts)["blocks"])
    assert "DTS-role-2" not in shown and "Plan revision 1" in shown, "the message shows the edit ahead of the thread"
    assert f"approved by <@{SOURCE_OWNER}>" in shown  # revision 1's approval, as the thread said
    bot.notifier.flush()
    assert any("Edited" in m["text"] for m in bot.slack.thread(CHANNEL, ts))
    shown = str(bot.slack.message(ts)["blocks"])
    assert "DTS-role-2" in shown and "Plan revision 2" in shown and f"approved by <@{SOURCE_OWNER}>" not in shown


"""storage.outbox: each notice queued once, leased by one replica, retried after a delay, kept in order."""

from datetime import timedelta

from storage import outbox
from storage.db import session_scope
from storage.models import utcnow


def test_notice_is_queued_once_and_delivered_once(engine):
    with session_scope(engine) as session:
        assert outbox.enqueue(session, "mr-aaaaaa", "mr-aaaaaa:approved", "thread", {"text": "approved"})
        assert not outbox.enqueue(session, "mr-aaaaaa", "mr-aaaaaa:approved", "thread", {"text": "again"})
    with session_scope(engine) as session:
        [message] = outbox.claim_pending(session, "replica-a", lease_seconds=30)
    with session_scope(engine) as session:
        assert outbox.claim_pending(session, "replica-b", lease_seconds=30) == []
        assert outbox.mark_sent(session, message.id, "replica-a", result_ts="1.000100")
        assert not outbox.mark_sent(session, message.id, "replica-b")
    with session_scope(engine) as session:
        assert [m.payload["text"] for m in outbox.sent(session, "mr-aaaaaa")] == ["approved"]
        assert outbox.pending_count(session) == 0


def test_retry_later_and_order_within_a_request(engine):
    with session_scope(engine) as session:
        outbox.enqueue(session, "mr-bbbbbb", "k1", "thread", {"text": "first"})
        outbox.enqueue(session, "mr-bbbbbb", "k2", "thread", {"text": "second"})
    with session_scope(engine) as session:
        first, second = outbox.claim_pending(session, "replica-a", lease_seconds=30)
        outbox.retry_later(session, first.id, "replica-a", delay_seconds=5)
        assert outbox.earlier_unsent(session, second) and not outbox.earlier_unsent(session, first)
    with session_scope(engine) as session:
        assert outbox.claim_pending(session, "replica-b", lease_seconds=30) == []  # second still leased
        later = utcnow() + timedelta(seconds=31)
        assert [m.key for m in outbox.claim_pending(session, "replica-b", 30, now=later)] == ["k1", "k2"]


def test_refreshes_coalesce_while_pending(engine):
    with session_scope(engine) as session:
        assert outbox.request_refresh(session, "mr-cccccc")
        assert not outbox.request_refresh(session, "mr-cccccc")
        assert outbox.pending_count(session) == 1


def test_a_refresh_waits_for_the_request_message_but_not_for_thread_notices(engine):
    with session_scope(engine) as session:
        outbox.enqueue(session, "mr-dddddd", "post", "request")
        outbox.enqueue(session, "mr-dddddd", "notice", "thread", {"text": "role created"})
        outbox.request_refresh(session, "mr-dddddd")
        outbox.enqueue(session, "mr-dddddd", "later", "thread", {"text": "preflight passed"})
    with session_scope(engine) as session:
        post, notice, refresh, later = outbox.claim_pending(session, "replica-a", lease_seconds=30)
        assert outbox.earlier_unsent(session, refresh)  # the request message is not posted yet
        outbox.mark_sent(session, post.id, "replica-a", result_ts="1.000100")
    with session_scope(engine) as session:
        assert not outbox.earlier_unsent(session, refresh)  # not behind the thread notice still unsent
        assert outbox.earlier_unsent(session, later)  # thread notices keep their order ...
        outbox.mark_sent(session, notice.id, "replica-a", result_ts="1.000200")
        assert not outbox.earlier_unsent(session, later)  # ... but do not wait for the refresh


def test_a_refresh_being_sent_does_not_swallow_a_later_change(engine):
    with session_scope(engine) as session:
        assert outbox.request_refresh(session, "mr-eeeeee")
    with session_scope(engine) as session:
        [refresh] = outbox.claim_pending(session, "replica-a", lease_seconds=30)
        outbox.mark_attempt(session, refresh.id, "replica-a")  # rendered and on its way to Slack
    with session_scope(engine) as session:
        assert outbox.request_refresh(session, "mr-eeeeee")  # the state changed meanwhile: render again
        assert not outbox.request_refresh(session, "mr-eeeeee")

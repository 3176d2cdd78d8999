"""storage.outbox: each notice queued once, leased by one replica, retried after a delay, kept in order."""

from datetime import timedelta

from sqlmodel import select

from storage import outbox, repository
from storage.db import session_scope
from storage.models import MigrationRequest, OutboxMessage, utcnow


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


def add_request(session, request_id: str, **changes):
    from tests.bot.test_blocks import request

    row = request(id=request_id, **changes)
    session.add(row)
    session.flush()
    return row


def move(session, row, state: str, **changes) -> None:
    """What the engine does in one transaction: the change, then its thread notice."""
    for name, value in {"state": state, **changes}.items():
        setattr(row, name, value)
    session.flush()
    outbox.enqueue(session, row.id, f"{row.id}:{state}", "thread", {"text": state})


def deliver(session, request_id: str, key: str) -> None:
    """The notifier delivered the notice `key` (its lease and Slack call are not what these tests are about)."""
    message = session.exec(select(OutboxMessage).where(OutboxMessage.key == key,
                                                       OutboxMessage.request_id == request_id)).one()
    message.sent_at = utcnow()
    session.flush()


def test_each_notice_carries_what_the_message_shows_as_of_its_change(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap01", facts={"dts_status": "running", "secret_less": "not shown"})
        outbox.enqueue(session, row.id, "mr-snap01:request", "request")
        move(session, row, "running", progress=40)
        move(session, row, "failed", failed_step="running", last_error="boom")
    with session_scope(engine) as session:
        posted, running, failed = outbox.claim_pending(session, "replica-a", 30)
    assert posted.payload["snapshot"]["state"] == "requested"
    shown = running.payload["snapshot"]
    assert {name: shown[name] for name in ("state", "progress", "failed_step", "last_error", "job_id", "facts")} == {
        "state": "running", "progress": 40, "failed_step": None, "last_error": None, "job_id": None,
        "facts": {"dts_status": "running"}}
    assert failed.payload["snapshot"]["last_error"] == "boom"


def test_a_notice_carries_the_approvals_and_the_plan_of_its_revision_but_never_the_external_id(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap05", external_id="dtsbot-external-0123456789")
        repository.record_approval(session, row, "source", "U0SRCOWNER")
        outbox.enqueue(session, row.id, "mr-snap05:approved:1:source", "thread", {"text": "source approved"})
        row.revision, row.role_name, row.objects = 2, "EditedRole", "shop.orders"  # an edit voids approvals
        outbox.enqueue(session, row.id, "mr-snap05:edited:2", "thread", {"text": "edited"})
    with session_scope(engine) as session:
        approved, edited = outbox.claim_pending(session, "replica-a", 30)
    assert approved.payload["snapshot"]["approved_by"] == {"source": "U0SRCOWNER"}
    assert (approved.payload["snapshot"]["revision"], approved.payload["snapshot"]["role_name"]) == (1, "DTS-role")
    assert edited.payload["snapshot"]["approved_by"] == {}
    assert (edited.payload["snapshot"]["revision"], edited.payload["snapshot"]["objects"]) == (2, "shop.orders")
    assert "dtsbot-external" not in str([approved.payload, edited.payload])


def test_the_message_shows_the_approvals_and_plan_of_the_last_delivered_notice(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap06")
        outbox.enqueue(session, row.id, "mr-snap06:request", "request")
        deliver(session, row.id, "mr-snap06:request")
        repository.record_approval(session, row, "source", "U0SRCOWNER")
        outbox.enqueue(session, row.id, "mr-snap06:approved:1:source", "thread", {"text": "source approved"})
        deliver(session, row.id, "mr-snap06:approved:1:source")
        repository.record_approval(session, row, "target", "U0TGTOWNER")
        outbox.enqueue(session, row.id, "mr-snap06:approved:1:target", "thread", {"text": "target approved"})
    with session_scope(engine) as session:  # the target's notice is unsent: its approval is not shown yet
        request = session.get(MigrationRequest, "mr-snap06")
        assert outbox.shown(session, request.id).approved_by == {"source": "U0SRCOWNER"}
        target = _id(session, "mr-snap06:approved:1:target")
        assert outbox.shown(session, request.id, delivered=target).approved_by == {"source": "U0SRCOWNER",
                                                                                  "target": "U0TGTOWNER"}
        request.revision, request.role_name = 2, "EditedRole"
        outbox.enqueue(session, request.id, "mr-snap06:edited:2", "thread", {"text": "edited"})
        deliver(session, request.id, "mr-snap06:approved:1:target")
    with session_scope(engine) as session:  # the edit's notice is unsent: revision 1 and its approvals shown
        shown = outbox.shown(session, "mr-snap06")
        assert (shown.request.revision, shown.request.role_name) == (1, "DTS-role")
        assert set(shown.approved_by) == {"source", "target"}
        deliver(session, "mr-snap06", "mr-snap06:edited:2")
    with session_scope(engine) as session:  # caught up: the row and its live approvals (none of revision 2)
        shown = outbox.shown(session, "mr-snap06")
        assert (shown.request.revision, shown.request.role_name, shown.approved_by) == (2, "EditedRole", {})


def test_a_snapshot_queued_before_approvals_and_plan_were_captured_renders_them_from_the_row(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap07", role_name="RowRole")
        repository.record_approval(session, row, "source", "U0SRCOWNER")
        shown = outbox.as_shown(row, {"source": "U0SRCOWNER"}, {"state": "approved", "progress": None, "facts": {}})
    assert (shown.request.state, shown.request.role_name, shown.request.revision) == ("approved", "RowRole", 1)
    assert shown.approved_by == {"source": "U0SRCOWNER"}


def test_the_message_shows_the_last_delivered_notice_until_the_thread_catches_up(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap02")
        outbox.enqueue(session, row.id, "mr-snap02:request", "request")
        move(session, row, "approved")
        move(session, row, "authorizing_source")
    with session_scope(engine) as session:  # nothing in the thread yet: the request message's own snapshot
        assert outbox.shown_snapshot(session, "mr-snap02")["state"] == "requested"
        deliver(session, "mr-snap02", "mr-snap02:request")
    with session_scope(engine) as session:
        assert outbox.shown_snapshot(session, "mr-snap02")["state"] == "requested"
        assert outbox.shown_snapshot(session, "mr-snap02", delivered=_id(session, "mr-snap02:approved"))[
            "state"] == "approved"  # the notice just posted counts as delivered
        deliver(session, "mr-snap02", "mr-snap02:approved")
    with session_scope(engine) as session:
        assert outbox.shown_snapshot(session, "mr-snap02")["state"] == "approved"
        deliver(session, "mr-snap02", "mr-snap02:authorizing_source")
    with session_scope(engine) as session:
        assert outbox.shown_snapshot(session, "mr-snap02") is None  # caught up: render the row
        shown = outbox.as_shown(session.get(MigrationRequest, "mr-snap02"), {},
                                {"state": "approved", "progress": None, "facts": {}}).request
        assert shown.state == "approved" and session.get(MigrationRequest, "mr-snap02").state == "authorizing_source"


def test_a_refresh_is_not_queued_while_an_untried_notice_will_render_the_message(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap03")
        move(session, row, "approved")
        assert not outbox.request_refresh(session, "mr-snap03")  # the notice's delivery renders the message
    with session_scope(engine) as session:
        [notice] = outbox.claim_pending(session, "replica-a", 30)
        outbox.mark_attempt(session, notice.id, "replica-a")  # on its way: it may have rendered already
    with session_scope(engine) as session:
        assert outbox.request_refresh(session, "mr-snap03")


def _id(session, key: str) -> int:
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).one()


def test_a_refresh_waits_while_a_notice_is_being_delivered(engine):
    with session_scope(engine) as session:
        row = add_request(session, "mr-snap04")
        move(session, row, "approved")
    with session_scope(engine) as session:
        assert not outbox.notice_in_flight(session, "mr-snap04")  # queued, not being sent
        [notice] = outbox.claim_pending(session, "replica-a", 30)
        outbox.mark_attempt(session, notice.id, "replica-a")
    with session_scope(engine) as session:
        assert outbox.notice_in_flight(session, "mr-snap04")
        assert not outbox.notice_in_flight(session, "mr-snap04", now=utcnow() + timedelta(seconds=31))  # died
        outbox.retry_later(session, notice.id, "replica-a", 5)
    with session_scope(engine) as session:
        assert not outbox.notice_in_flight(session, "mr-snap04")  # Slack refused it: waiting to retry

"""Request operations outside the approval buttons: expiry, and re-verify / complete / retry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.waiting import eventually
from storage import outbox, repository
from storage.db import session_scope
from storage.models import utcnow
from tests.support.harness import Bot
from tests.support.workspace import EVIDENCE_IN, REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER


def test_requests_not_approved_in_time_expire_and_the_message_says_so(bot: Bot) -> None:
    request_id = bot.create()
    message = bot.posted(request_id)
    bot.click(SOURCE_OWNER, message, "approve_source")
    assert bot.requests.expire_overdue() == []
    later = utcnow() + timedelta(hours=bot.settings.scheduler.approval_expiry_hours, minutes=1)
    assert bot.requests.expire_overdue(now=later) == [request_id]
    assert bot.requests.expire_overdue(now=later) == []
    bot.notifier.flush()
    refreshed = bot.slack.message(message["ts"])
    assert "Expired" in str(refreshed["blocks"]) and all(b["type"] != "actions" for b in refreshed["blocks"])
    notice = bot.slack.thread("C0DTSBOT01", message["ts"])[-1]["text"]
    assert notice.startswith("Expired: not approved by both sides within 72 hours")
    assert "no longer takes approvals" in bot.click(TARGET_OWNER, message, "approve_target")["text"]


def put_in_state(bot: Bot, request_id: str, state: str, **changes) -> dict:
    """Move the request as the engine would have, and return its refreshed message."""
    with session_scope(bot.db) as session:
        request = repository.get_request(session, request_id)
        repository.update_request(session, request, state=state, **changes)
        outbox.request_refresh(session, request_id)
    bot.notifier.flush()
    return bot.slack.message(bot.request(request_id).message_ts)


@pytest.mark.parametrize(("state", "action_id", "goal", "extra", "who", "refused"), [
    ("verify_failed", "reverify", "verifying", {"last_error": "check failed"}, REQUESTER,
     "Only the requester or an approver"),
    ("ready_to_complete", "complete", "completing", {"facts": EVIDENCE_IN}, TARGET_OWNER,
     "Only the approvers of analytics"),
    ("failed", "retry", "authorizing_source", {"failed_step": "preflight", "last_error": "AssumeRole denied"},
     SOURCE_OWNER, "Only the approvers of shop-prod"),
    ("failed", "retry", "starting", {"failed_step": "starting", "last_error": "StatusInConflict"}, REQUESTER,
     "Only the requester or an approver"),
])
def test_resume_buttons_hand_the_request_back_to_the_engine(bot: Bot, state: str, action_id: str, goal: str,
                                                            extra: dict, who: str, refused: str) -> None:
    request_id = bot.create()
    bot.posted(request_id)
    message = put_in_state(bot, request_id, state, **extra)
    assert refused in bot.click(STRANGER, message, action_id)["text"]
    assert bot.refusals(request_id) == [(STRANGER, action_id)] and bot.request(request_id).state == state
    bot.click(who, message, action_id)
    eventually(lambda: bot.request(request_id).state == goal)
    assert bot.kicked == [request_id]  # the engine was kicked
    assert "applies only when" in bot.click(who, message, action_id)["text"]  # a second click

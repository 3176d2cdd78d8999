"""Delivers the Slack outbox: the request message, thread notices under it, in-place refreshes, private
notices to one side's approvers, and direct messages (reminders before expiry, the requester told of expiry).

Notices are written by core in the same transaction as the change they announce (storage.outbox); this is
the only place that posts them. Guarantees: per-request order (a notice waits while an older one of its
request is unsent), at most `slack.posts_per_second` posts per channel sustained (default one, as Slack
allows; a token bucket; refreshes are chat.update calls, coalesced by the outbox), slack_sdk's 429 and 5xx
retry handlers enabled, and on any failure the notice is retried later (Retry-After honoured): an outage
delays notices, never loses them; so does a notice to approvers Slack cannot resolve now (MembersUnknown).
After each thread notice the request message is updated to what that notice announced (its snapshot, approvals
and plan included, see storage.outbox), so the message never runs ahead of the thread and agrees with it at every
notice.
A notice is marked sent in the database right after Slack accepted it, and the request message's ts is
stored with it, so a restart does not post it twice.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from sqlalchemy.engine import Engine

from bot import alert_messages, blocks, direct_messages
from bot.directory import SlackDirectory
from bot.services import Services
from bot.user_locale import locale_for_user
from core import approvals, i18n
from core.approvals import MembersUnknown
from core.config import Settings
from core.metrics import Metrics
from core.requests import MigrationRequests
from core.retry import Backoff
from core.workflow import State
from storage import outbox, repository
from storage.db import session_scope
from storage.models import MigrationRequest, OutboxMessage
from storage.repository import ConcurrentUpdate

log = logging.getLogger(__name__)

NOTICE_EVENT = "dtsbot_notice"
"""Slack message-metadata event type of thread notices; its payload carries the outbox key."""
WAIT_FOR_PARENT = 1.0  # a thread notice whose request message is not posted yet waits this long


def web_client(settings: Settings, timeout: int = 10) -> WebClient:
    """The bot's WebClient: `slack.api_url` as base URL, 429 and 5xx retry handlers enabled (they are opt-in)."""
    client = WebClient(token=settings.slack.bot_token.get_secret_value(), timeout=timeout,
                       base_url=settings.slack.api_url or WebClient.BASE_URL)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2),
                                  ServerErrorRetryHandler(max_retry_count=2)])
    return client


NOTICE_RETRY = Backoff(base=2.0, cap=60.0)
"""A notice Slack did not take is tried again after 2, 4, 8 … at most 60 s (by its `attempts`), never dropped."""


class Notifier:
    """Sends pending outbox notices to Slack; `flush()` once, or `start()` a background loop."""

    def __init__(self, web_client: WebClient, db_engine: Engine, settings: Settings, owner: str, *,
                 posts_per_second: float | None = None, lease_seconds: float | None = None, batch: int = 20,
                 metrics: Metrics | None = None, directory: SlackDirectory | None = None) -> None:
        """`directory`: the replica's one SlackDirectory, shared with the Bolt app (bot/runtime.py)."""
        self.client = web_client
        self.db = db_engine
        self.settings = settings
        self.owner = owner
        self.services = Services(settings=settings, db=db_engine, requests=MigrationRequests(db_engine, settings))
        self.posts_per_second = settings.slack.posts_per_second if posts_per_second is None else posts_per_second
        # as short as the workflow's leases (scheduler.lease_seconds): a replica's notices wait no longer than
        # its requests when it dies; each notice's lease is renewed right before it is sent
        self.lease_seconds = settings.scheduler.lease_seconds if lease_seconds is None else lease_seconds
        self.batch = batch
        self.metrics = metrics
        self._next_post: dict[str, float] = {}
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()
        self.directory = directory or SlackDirectory(web_client)

    # -- the loop --------------------------------------------------------------------------------------
    def flush(self) -> int:
        """Deliver the notices that are due; returns how many reached Slack."""
        with self._flush_lock:
            with session_scope(self.db) as session:
                claimed = outbox.claim_pending(session, self.owner, self.lease_seconds, self.batch)
            delivered = 0
            for index, message in enumerate(claimed):
                if self._stopping.is_set():  # hand the rest back now instead of when the leases expire
                    with session_scope(self.db) as session:
                        for rest in claimed[index:]:
                            assert rest.id is not None  # claimed from the table
                            outbox.retry_later(session, rest.id, self.owner, 0)
                    break
                delivered += self._deliver(message)
            return delivered

    def wake(self) -> None:
        """New notices are queued: deliver now rather than at the next interval."""
        self._wakeup.set()

    def start(self, interval: float = 1.0) -> None:
        """Flush in a background thread every `interval` seconds, or at once when woken."""
        self._thread = threading.Thread(target=self._run, args=(interval,), name="dtsbot-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the notice being sent (the others are handed back) and end the loop."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                delivered = self.flush()
            except Exception:  # the loop must outlive a database hiccup; the notices stay queued
                log.exception("outbox flush failed")
                delivered = 0
            if not delivered:
                self._wakeup.wait(interval)
            self._wakeup.clear()

    # -- one notice ------------------------------------------------------------------------------------
    def _deliver(self, message: OutboxMessage) -> bool:
        assert message.id is not None  # claimed from the table
        with session_scope(self.db) as session:
            if not outbox.renew(session, message.id, self.owner, self.lease_seconds):
                return False  # held past its lease while earlier notices went out; another replica has it
            if outbox.earlier_unsent(session, message):
                outbox.retry_later(session, message.id, self.owner, 0)
                return False
            if message.kind == "refresh" and outbox.notice_in_flight(session, message.request_id):
                outbox.retry_later(session, message.id, self.owner, WAIT_FOR_PARENT)
                return False
            if message.kind in ("request", "refresh"):  # the message shows no more than its thread has said
                request, approved_by = outbox.shown(session, message.request_id) or (None, None)
            else:
                request, approved_by = repository.get_request(session, message.request_id), None
            outbox.mark_attempt(session, message.id, self.owner)
        try:
            result_ts = self._send(message, request, approved_by)
        except SlackApiError as error:
            self._failed(message, error.response.status_code, error.response.headers, error.response.get("error"))
            return False
        except (urllib.error.URLError, OSError) as error:
            self._failed(message, None, {}, type(error).__name__)
            return False
        except MembersUnknown as error:  # who the approvers are is not known now: later, not to no one
            self._failed(message, None, {}, f"cannot resolve {error.entry}: {error.reason}")
            return False
        except _NotYet:
            with session_scope(self.db) as session:
                outbox.retry_later(session, message.id, self.owner, WAIT_FOR_PARENT)
            return False
        except Exception:  # a bug in one notice must not hold the others' leases
            log.exception("delivering %s notice %s failed", message.kind, message.key)
            with session_scope(self.db) as session:
                outbox.retry_later(session, message.id, self.owner, NOTICE_RETRY.delay(message.attempts))
            return False
        with session_scope(self.db) as session:
            outbox.mark_sent(session, message.id, self.owner, result_ts)
        return True

    def _send(self, message: OutboxMessage, request: MigrationRequest | None,
              approved_by: dict[str, str] | None) -> str | None:
        if request is None:
            return None  # nothing to announce about: a notice for an unknown request is dropped
        if message.kind == "request":
            if request.message_ts:  # posted before a crash, not yet marked: do not post twice
                return request.message_ts
            channel = self.settings.slack.channel
            answer = self._post(channel, **self.services.request_message(request, approved_by))
            self._store_message(request.id, channel, answer["ts"])
            return answer["ts"]
        if not (request.channel and request.message_ts):
            raise _NotYet
        if message.kind == "private":
            self._private(request, message.payload)
            return None
        if message.kind == "direct":
            self._direct(request, message)
            return None
        if message.kind == "thread":
            if message.attempts:  # an earlier attempt may have reached Slack before its replica died
                posted = self._posted_before(request.channel, request.message_ts, message.key)
                if posted is not None:
                    self._summarise(request, message)
                    return posted
            reach = str(message.payload.get("reach") or "")
            needed = [u for side in (("source", "target") if reach == "both" else (reach,) if reach else ())
                      for u in self._approvers(request, side)]
            answer = self._post(request.channel, thread_ts=request.message_ts,
                                metadata={"event_type": NOTICE_EVENT, "event_payload": {"key": message.key}},
                                **blocks.notice(request.id, message.payload, needed))
            self._summarise(request, message)
            return answer["ts"]
        self._call("chat.update", self.client.chat_update, channel=request.channel, ts=request.message_ts,
                   **self.services.request_message(request, approved_by))
        return request.message_ts

    def _summarise(self, request: MigrationRequest, message: OutboxMessage) -> None:
        """Bring the request message to what the thread now says: this notice's snapshot while later notices wait,
        else the request as it is; so the message agrees with the thread at every notice. A failure only delays
        it: a refresh is queued instead."""
        if outbox.SNAPSHOT not in message.payload:
            return
        try:
            with session_scope(self.db) as session:
                shown = outbox.shown(session, request.id, delivered=message.id)
            if shown is None:
                return
            self._call("chat.update", self.client.chat_update, channel=request.channel, ts=request.message_ts,
                       **self.services.request_message(shown.request, shown.approved_by))
        except (SlackApiError, urllib.error.URLError, OSError) as error:
            log.warning("request message of %s not brought up to notice %s (%s); refreshing later",
                        request.id, message.key, type(error).__name__)
            with session_scope(self.db) as session:
                outbox.request_refresh(session, request.id)

    def _private(self, request: MigrationRequest, payload: dict[str, Any]) -> None:
        """Show a value the fix needs (e.g. the exact trust policy) only to the approvers of the side that must act,
        in the request's thread; the channel sees it masked. An ephemeral cannot be found again: at least once."""
        side = blocks.private_notice_side(str(payload.get("event")))
        account = self.settings.account(request.source_account if side == "source" else request.target_account)
        users = self.directory.users(account.approvers)  # MembersUnknown: the notice is retried later
        if not users:
            log.warning("private notice of %s shown to nobody: Slack says the approvers of %s (%s) are nobody",
                        request.id, account.name, ", ".join(account.approvers))
        for user in users:
            with i18n.speaking(locale_for_user(self.client, user)):  # each approver reads it in their language
                _side, content = blocks.private_notice(request, str(payload.get("event")), self.settings)
            try:
                self._call("chat.postEphemeral", self.client.chat_postEphemeral, channel=request.channel,
                           user=user, thread_ts=request.message_ts, **content)
            except SlackApiError as error:  # one approver Slack refuses (not in the channel) must not hold the rest
                self._refused_for(user, error, f"private notice of {request.id}")

    def _direct(self, request: MigrationRequest, message: OutboxMessage) -> None:
        """DM people: the requester (expired); a side's undecided approvers (the reminder; nothing once that side
        decided or the request left `requested`); a side's approvers when a failure needs that account (a low
        balance: `needs_side`, while the request is still failed). A side's DM fans out into one notice per
        approver, so a retry after a failed DM repeats no one else's. Each DM is in its recipient's Slack locale."""
        payload = message.payload
        if payload.get("event") in alert_messages.EVENTS:
            self._alert(request, message)
            return
        if payload.get("event") == "expired":
            permalink = self._permalink(request)
            with i18n.speaking(locale_for_user(self.client, request.requester)):
                content = direct_messages.expired(request, float(payload.get("hours") or 0), permalink)
            self._dm(request.requester, content, request.id)
            return
        side, needs_side = str(payload.get("side")), payload.get("event") == "needs_side"
        if needs_side and request.state != State.FAILED:
            return  # retried or cancelled meanwhile: the DM would be stale
        approved_by = self.services.approved_by(request)
        if not needs_side and (request.state != State.REQUESTED or side in approved_by):
            return
        user = payload.get("user")
        if user is None:
            self._fan_out(request, message, side, needs_side, approved_by)
            return
        permalink = self._permalink(request)
        with i18n.speaking(locale_for_user(self.client, str(user))):
            content = (direct_messages.needs_side(request, side, str(payload.get("code")), permalink) if needs_side
                       else direct_messages.reminder(request, side, datetime.fromisoformat(str(payload["expires_at"])),
                                                     permalink))
        self._dm(str(user), content, request.id)

    def _alert(self, request: MigrationRequest, message: OutboxMessage) -> None:
        """An alert or its "back to normal" (core/alerts.py): fanned out into one DM per approver of the sides it
        names (each person once), then each rendered in its recipient's language."""
        payload = message.payload
        user = payload.get("user")
        if user is None:
            users = sorted({u for side in payload.get("sides") or ["target"] for u in self._approvers(request, side)})
            with session_scope(self.db) as session:
                for approver in users:
                    outbox.enqueue(session, request.id, f"{message.key}:{approver}", "direct",
                                   {**payload, "user": approver})
            self.wake()
            return
        alerts = self.settings.alerts
        minutes = alerts.lag_minutes if payload.get("kind") == "lag" else alerts.stall_minutes
        permalink = self._permalink(request)
        with i18n.speaking(locale_for_user(self.client, str(user))):
            content = alert_messages.alert_dm(request, payload, minutes, alerts.lag_seconds, alerts.snooze_hours,
                                              permalink)
        self._dm(str(user), content, request.id)

    def _approvers(self, request: MigrationRequest, side: str) -> list[str]:
        """The Slack users approving `side` of the request (MembersUnknown: the notice is retried later)."""
        account = approvals.side_account(self.settings, request, side)
        users = list(self.directory.users(account.approvers))
        if not users:
            log.warning("the approvers of %s (%s) are nobody, Slack says: %s not told", account.name,
                        ", ".join(account.approvers), request.id)
        return users

    def _fan_out(self, request: MigrationRequest, message: OutboxMessage, side: str, everyone: bool,
                 approved_by: Mapping[str, str]) -> None:
        """One direct notice per approver of `side` (`everyone`: the requester too when an approver; a reminder
        skips the requester unless self-approval is allowed, and whoever approved the other side: they may not
        approve this one, core.approvals.two_person_refusal)."""
        account = approvals.side_account(self.settings, request, side)
        users = [u for u in self._approvers(request, side)
                 if everyone or ((u != request.requester or account.allow_self_approval)
                                 and approvals.two_person_refusal(self.settings, request.id, side, u,
                                                                  approved_by) is None)]
        with session_scope(self.db) as session:
            for approver in users:
                outbox.enqueue(session, request.id, f"{message.key}:{approver}", "direct",
                               {**message.payload, "user": approver})
        self.wake()

    def _dm(self, user: str, content: dict[str, Any], request_id: str) -> None:
        """chat.postMessage to the user's DM with the bot; a user Slack says is gone is logged, not retried."""
        try:
            self._call("chat.postMessage", self.client.chat_postMessage, channel=user, **content)
        except SlackApiError as error:
            self._refused_for(user, error, f"DM about {request_id}")

    def _refused_for(self, user: str, error: SlackApiError, what: str) -> None:
        """Slack refused `what` for one person: 429 and 5xx are re-raised (the notice is retried later); any other
        refusal is that person's (not in the channel, gone) and is logged, and a gone user is forgotten."""
        if error.response.status_code == 429 or error.response.status_code >= 500:
            raise error
        log.warning("%s not sent to %s: %s", what, user, error.response.get("error"))
        self.directory.gone(user, error.response.get("error"))

    def _permalink(self, request: MigrationRequest) -> str | None:
        """The request message's link (chat.getPermalink), or None when Slack cannot give it now."""
        try:
            answer = self._call("chat.getPermalink", self.client.chat_getPermalink, channel=request.channel,
                                message_ts=request.message_ts)
        except SlackApiError:
            return None
        return answer.get("permalink")

    def _posted_before(self, channel: str, thread_ts: str, key: str) -> str | None:
        """The ts of this notice if it is already in the thread (found by the key in its message metadata)."""
        answer = self._call("conversations.replies", self.client.conversations_replies, channel=channel,
                            ts=thread_ts, include_all_metadata=True, limit=1000)
        for reply in answer.get("messages", []):
            if (reply.get("metadata") or {}).get("event_payload", {}).get("key") == key:
                return reply["ts"]
        return None

    def _post(self, channel: str, **content: Any) -> Any:
        """Post, at most `posts_per_second` per channel counted from when Slack *answered* the previous post:
        pacing the starts instead would let a slow answer and a fast one land within the same second."""
        wait = self._next_post.get(channel, 0.0) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self._call("chat.postMessage", self.client.chat_postMessage, channel=channel, **content)
        finally:
            self._next_post[channel] = time.monotonic() + 1.0 / self.posts_per_second

    def _call(self, method: str, call: Any, **args: Any) -> Any:
        try:
            answer = call(**args)
        except SlackApiError as error:
            self._count(method, "429" if error.response.status_code == 429 else "error")
            raise
        self._count(method, "ok")
        return answer

    def _store_message(self, request_id: str, channel: str, ts: str) -> None:
        """Remember where the request message is; retried if another writer moved the version meanwhile."""
        for _ in range(10):
            with session_scope(self.db) as session:
                request = repository.get_request(session, request_id)
                if request is None:
                    return
                try:
                    repository.update_request(session, request, channel=channel, message_ts=ts)
                    return
                except ConcurrentUpdate:
                    session.rollback()
        raise ConcurrentUpdate(f"could not store the message ts of {request_id}")

    def _failed(self, message: OutboxMessage, status: int | None, headers: Any, error: Any) -> None:
        assert message.id is not None  # claimed from the table
        retry_after = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
        if isinstance(retry_after, list):
            retry_after = retry_after[0]
        delay = float(retry_after) if retry_after else NOTICE_RETRY.delay(message.attempts)
        log.warning("Slack refused %s notice %s (HTTP %s, %s); retrying in %.0f s",
                    message.kind, message.key, status, error, delay)
        if status == 429 and self.metrics is not None:
            self.metrics.slack_rate_limited.inc()
        with session_scope(self.db) as session:
            outbox.retry_later(session, message.id, self.owner, delay)

    def _count(self, method: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.slack_calls.labels(method=method, outcome=outcome).inc()


class _NotYet(Exception):
    """The request message is not posted yet; a thread notice or refresh waits for it."""

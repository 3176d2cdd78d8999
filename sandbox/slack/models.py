"""The Slack workspace the emulator serves: directory, messages, ephemerals, views, triggers, call log.

No HTTP here (moto's models/responses split): `responses.py` turns Web API calls into these operations and
tests read the recorded state back. Every change notifies waiters of `wait_for`.
"""

import copy
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_USERS: dict[str, str] = {
    "U0REQUESTER": "Riley Requester",
    "U0SRCOWNER": "Sam Source-Owner",
    "U0TGTOWNER": "Tara Target-Owner",
    "U0STRANGER": "Stan Stranger",
    "U0DTSBOT": "dtsbot",
}
DEFAULT_CHANNELS: dict[str, str] = {"C0DTSBOT01": "dts-migrations"}
EMAIL_DOMAIN = "dtsbot-sandbox.example"
FIRST_TS = 1_732_500_000_000_100  # microseconds: the first message is "1732500000.000100"


@dataclass
class Trigger:
    """A trigger_id: exchangeable once, for a few seconds after the interaction that issued it."""

    user: str | None
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where a response_url posts: the interaction's channel and user, and the message it came from."""

    channel: str
    user: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0


@dataclass
class Call:
    """One Web API call as received: method, arguments (token redacted), HTTP status and answer."""

    method: str
    args: dict
    status: int
    response: dict
    at: float = field(default_factory=time.monotonic)


class Workspace:
    """State of one emulated workspace, safe to read from tests while the server threads write it."""

    def __init__(
        self, bot_user_id: str, channels: dict[str, str], users: dict[str, str],
        usergroups: dict[str, list[str]], members: dict[str, list[str]] | None, team_id: str,
        emails: dict[str, str] | None = None,
        locales: dict[str, str] | None = None,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.channels = dict(channels)
        self.users = dict(users)
        self.emails = {user: (emails or {}).get(user) or f"{_handle(name)}@{EMAIL_DOMAIN}"
                       for user, name in self.users.items()}
        """Each user's profile e-mail (users.lookupByEmail); by default <handle>@dtsbot-sandbox.example."""
        self.deactivated: set[str] = set()
        self.scopes: set[str] | None = None
        """The bot token's scopes where the emulator checks them (users.lookupByEmail); None: all granted."""
        self.home_tab_enabled = True
        """The app's manifest enables the Home tab (views.publish answers not_enabled otherwise)."""
        self.locales = dict(locales or {})
        """Each user's Slack locale (users.info with include_locale); en-US when not given."""
        self.usergroups = {group: list(users_) for group, users_ in usergroups.items()}
        self.members = {c: list(members[c]) if members and c in members else list(self.users) for c in channels}
        self.changed = threading.Condition()
        self.reset()

    def reset(self) -> None:
        """Forget every message, view, trigger and call; the directory stays."""
        with self.changed:
            self._ts = itertools.count(FIRST_TS, 100)
            self._ids = itertools.count(1)
            self.top_level: dict[str, list[dict]] = {c: [] for c in self.channels}
            self.replies: dict[tuple[str, str], list[dict]] = {}
            self.by_ts: dict[str, tuple[str, dict]] = {}
            self.history: dict[str, list[dict]] = {}
            self.deleted: list[dict] = []
            self.ephemerals: list[dict] = []
            self.views: dict[str, dict] = {}
            self.home: dict[str, dict] = {}
            """Each user's published Home tab view (views.publish), by user ID."""
            self.triggers: dict[str, Trigger] = {}
            self.response_urls: dict[str, ResponseUrl] = {}
            self.calls: list[Call] = []
            self.post_times: dict[str, list[float]] = {}
            self.changed.notify_all()

    # -- identifiers -------------------------------------------------------------------------------
    def next_ts(self) -> str:
        """A message ts like Slack's, unique and increasing."""
        micros = next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        """An object id such as V0000000001 (views)."""
        return f"{prefix}{next(self._ids):010d}"

    def issue_trigger(self, user: str | None) -> str:
        """A fresh trigger_id in Slack's shape (digits.digits.hex)."""
        trigger_id = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
        with self.changed:
            self.triggers[trigger_id] = Trigger(user=user, issued_at=time.monotonic())
        return trigger_id

    def age_triggers(self, seconds: float) -> None:
        """Let `seconds` pass for every trigger_id issued so far (a test expires them without sleeping)."""
        with self.changed:
            for trigger in self.triggers.values():
                trigger.issued_at -= seconds

    def issue_response_url(self, target: ResponseUrl) -> str:
        """The id part of a new response_url."""
        response_id = secrets.token_urlsafe(12)
        with self.changed:
            self.response_urls[response_id] = target
        return response_id

    # -- messages ----------------------------------------------------------------------------------
    def add_message(self, channel: str, message: dict) -> dict:
        """Store a posted message (top level, or a reply when it carries thread_ts)."""
        with self.changed:
            message["ts"] = self.next_ts()
            thread_ts = message.get("thread_ts")
            if thread_ts:
                self.replies.setdefault((channel, thread_ts), []).append(message)
                parent = self.by_ts[thread_ts][1]
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
            else:
                self.top_level.setdefault(channel, []).append(message)
            self.by_ts[message["ts"]] = (channel, message)
            self.post_times.setdefault(channel, []).append(time.monotonic())
            self.changed.notify_all()
            return message

    def update_message(self, ts: str, changes: dict, editor: str) -> dict:
        """Replace a stored message's content in place, keeping the earlier version in history."""
        with self.changed:
            message = self.by_ts[ts][1]
            self.history.setdefault(ts, []).append(copy.deepcopy(message))
            for key in ("text", "blocks", "attachments"):
                if key in changes:
                    message[key] = changes[key]
            message["edited"] = {"user": editor, "ts": self.next_ts()}
            self.changed.notify_all()
            return message

    def delete_message(self, ts: str) -> None:
        """Remove a message (delete_original), keeping it in `deleted`."""
        with self.changed:
            channel, message = self.by_ts.pop(ts)
            thread_ts = message.get("thread_ts")
            siblings = self.top_level[channel] if thread_ts in (None, ts) else self.replies[(channel, thread_ts)]
            siblings.remove(message)
            self.deleted.append(message)
            self.changed.notify_all()

    def add_ephemeral(self, channel: str, user: str, message: dict) -> dict:
        """Store an ephemeral message, seen only by `user`."""
        with self.changed:
            message.update(channel=channel, user=user, ts=self.next_ts())
            self.ephemerals.append(message)
            self.changed.notify_all()
            return message

    def find_ephemeral(self, ts: str) -> dict | None:
        """The ephemeral message with this ts, if any."""
        return next((e for e in self.ephemerals if e["ts"] == ts), None)

    # -- reading, for tests ------------------------------------------------------------------------
    def snapshot(self, read: Callable[[], T]) -> T:
        """A deep copy of what `read` returns, taken under the lock."""
        with self.changed:
            return copy.deepcopy(read())

    def wait_for(self, predicate: Callable[[], T], timeout: float) -> T:
        """Block until `predicate()` is truthy (re-checked on every change); return its value."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self.changed.wait(min(remaining, 0.1))

    def record_call(self, call: Call) -> None:
        """Append to the call log."""
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def dm_channel(self, user_id: str) -> str:
        """The ID of the app's direct-message channel with `user_id` (D…), opened on first use."""
        channel = "D" + user_id[1:]
        with self.changed:
            if channel not in self.channels:
                self.channels[channel] = user_id
                self.members[channel] = [self.bot_user_id, user_id]
                self.top_level[channel] = []
                self.changed.notify_all()
        return channel

    def deactivate(self, user_id: str) -> None:
        """An admin deactivates the user: users.info says `deleted`, users.lookupByEmail no longer finds them."""
        with self.changed:
            self.deactivated.add(user_id)
            self.changed.notify_all()

    def user_by_email(self, email: str) -> str | None:
        """The active user whose profile has this address (Slack compares case-insensitively)."""
        return next((user for user, address in self.emails.items()
                     if address.lower() == email.strip().lower() and user not in self.deactivated), None)

    def user_profile(self, user_id: str, include_locale: bool = False) -> dict[str, Any]:
        """users.info's `user` object for a directory entry; `locale` (e.g. en-US, zh-CN) only when asked for,
        as Slack sends it only with `include_locale=true`."""
        real_name = self.users[user_id]
        handle = _handle(real_name)
        profile = {
            "id": user_id, "team_id": self.team_id, "name": handle, "real_name": real_name,
            "deleted": user_id in self.deactivated, "is_bot": user_id == self.bot_user_id, "tz": "Asia/Shanghai",
            "profile": {"real_name": real_name, "display_name": handle, "email": self.emails[user_id]},
        }
        if include_locale:
            profile["locale"] = self.locales.get(user_id, "en-US")
        return profile


def _handle(real_name: str) -> str:
    return real_name.split()[0].lower()

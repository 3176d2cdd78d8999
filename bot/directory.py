"""Who an `approvers`/`requesters` entry stands for in Slack: a user ID itself, a user group's members
(usergroups.users.list), or the user with an e-mail address (users.lookupByEmail).

E-mail addresses are cached: an address keeps its user until Slack says that user is gone (`forget`, called when
a DM to the user fails with user_not_found or account_inactive), then it is looked up again. An address Slack
does not know (`users_not_found`, or a deactivated user) stands for nobody, and is asked again after a minute.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import SlackUserGroups
from core.config import is_email

log = logging.getLogger(__name__)
GONE = ("user_not_found", "users_not_found", "account_inactive", "user_disabled")
"""Slack's errors that say a user no longer exists (or was deactivated)."""
UNKNOWN_RETRY_SECONDS = 60.0


class SlackEmails:
    """E-mail address -> Slack user ID with users.lookupByEmail (scope `users:read.email`), cached."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._known: dict[str, str] = {}
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def user(self, email: str) -> str | None:
        """The user with this address, or None when Slack knows no active user with it."""
        key = email.lower()
        with self._lock:
            if key in self._known:
                return self._known[key]
            asked = self._unknown.get(key)
        if asked is not None and time.monotonic() - asked < UNKNOWN_RETRY_SECONDS:
            return None
        try:
            found = self.client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as error:
            code = error.response.get("error")
            if code not in GONE:
                raise
            found = None
        with self._lock:
            if not found or found.get("deleted"):
                self._unknown[key] = time.monotonic()
                return None
            self._known[key] = found["id"]
            self._unknown.pop(key, None)
            return found["id"]

    def forget(self, user: str) -> None:
        """Slack says `user` is gone: the addresses that resolved to it are looked up again next time."""
        with self._lock:
            for email in [e for e, u in self._known.items() if u == user]:
                del self._known[email]


class SlackDirectory:
    """The `MembersOf` resolver of core.approvals: the users an entry stands for (a user ID stands for itself)."""

    def __init__(self, client: WebClient) -> None:
        self.groups = SlackUserGroups(client)
        self.emails = SlackEmails(client)

    def __call__(self, entry: str) -> frozenset[str]:
        """The user IDs behind `entry` (empty when Slack does not know it)."""
        if is_email(entry):
            try:
                user = self.emails.user(entry)
            except SlackApiError as error:
                log.warning("cannot resolve approver e-mail: %s", error.response.get("error"))
                return frozenset()
            return frozenset({user}) if user else frozenset()
        if entry.startswith("S"):
            return self.groups(entry)
        return frozenset({entry})

    def users(self, entries: list[str]) -> list[str]:
        """Every user behind `entries`, each once, in order."""
        return list(dict.fromkeys(user for entry in entries for user in sorted(self(entry))))

    def gone(self, user: str, error: str | None) -> None:
        """A Slack call about `user` failed with `error`: when it says the user is gone, re-resolve addresses."""
        if error in GONE:
            self.emails.forget(user)

"""Who an `approvers`/`requesters` entry stands for in Slack: a user ID itself, a user group's members
(usergroups.users.list), or the user with an e-mail address (users.lookupByEmail).

One directory per replica (bot/runtime.py hands it to the Bolt app and the notifier). Slack's answers are used
for `RESOLVED_SECONDS`, then asked again, so an address that moved to another person follows it within a minute;
a "user gone" answer to a DM forgets that user's entries at once. Three kinds of answer:
- who it is (an empty set when Slack says nobody: an unknown address or group, a deactivated user);
- Slack could not answer (429 or 5xx after slack_sdk's retries, a network error): MembersUnknown, not remembered;
- Slack refuses to say (a missing users:read.email scope, any other 4xx): MembersUnknown, remembered like an
  answer and logged once, so a misconfiguration costs one call a minute, not one per Home opening.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.approvals import MembersUnknown, resolved
from core.config import is_email

log = logging.getLogger(__name__)
RESOLVED_SECONDS = 60.0
"""How long Slack's answer about a user group or an e-mail address is used before Slack is asked again."""
GONE = ("user_not_found", "users_not_found", "account_inactive", "user_disabled")
"""Slack's errors that say a user no longer exists (or was deactivated)."""
NOBODY = (*GONE, "no_such_subteam")
"""Slack's errors that say an entry stands for nobody."""

Answer = frozenset[str] | str
"""The users behind an entry, or the error code Slack refused with."""


class SlackDirectory:
    """The `MembersOf` resolver of core.approvals: the users an entry stands for (a user ID stands for itself).
    `clock` (seconds, monotonic) decides when an answer expires; tests move it instead of sleeping."""

    def __init__(self, client: WebClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self._answers: dict[str, tuple[float, Answer]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, entry: str) -> frozenset[str]:
        """The user IDs behind `entry` (empty when Slack says nobody); MembersUnknown when Slack cannot tell."""
        if not resolved(entry):
            return frozenset({entry})
        key = entry.lower()
        with self._lock:
            cached = self._answers.get(key)
        if cached is None or self.clock() - cached[0] >= RESOLVED_SECONDS:
            cached = (self.clock(), self._ask(entry))
            with self._lock:
                self._answers[key] = cached
        if isinstance(cached[1], str):
            raise MembersUnknown(entry, cached[1])
        return cached[1]

    def users(self, entries: list[str]) -> list[str]:
        """Every user behind `entries`, each once, in order; MembersUnknown when Slack cannot tell for one."""
        return list(dict.fromkeys(user for entry in entries for user in sorted(self(entry))))

    def gone(self, user: str, error: str | None) -> None:
        """A Slack call about `user` failed with `error`: when it says the user is gone, forget every entry that
        stood for them, so the next use asks Slack again."""
        if error not in GONE:
            return
        with self._lock:
            stale = [key for key, (_at, answer) in self._answers.items()
                     if isinstance(answer, frozenset) and user in answer]
            for key in stale:
                del self._answers[key]

    def _ask(self, entry: str) -> Answer:
        """Slack's answer now: users, or the code of a definitive refusal; MembersUnknown when it did not answer."""
        try:
            if is_email(entry):
                found = self.client.users_lookupByEmail(email=entry)["user"]
                return frozenset() if found.get("deleted") else frozenset({found["id"]})
            return frozenset(self.client.usergroups_users_list(usergroup=entry).get("users") or ())
        except SlackApiError as error:
            status, code = error.response.status_code, str(error.response.get("error"))
            if status == 429 or status >= 500:
                raise MembersUnknown(entry, code) from None
            if code in NOBODY:
                return frozenset()
            self._warn_once(code)
            return code
        except (urllib.error.URLError, OSError) as error:
            raise MembersUnknown(entry, type(error).__name__) from None

    def _warn_once(self, code: str) -> None:
        with self._lock:
            first = code not in self._warned
            self._warned.add(code)
        if first:
            log.warning("Slack refuses to resolve approvers/requesters: %s (users:read.email and usergroups:read "
                        "are needed; see `dtsbot manifest`); asked again every %.0f s", code, RESOLVED_SECONDS)

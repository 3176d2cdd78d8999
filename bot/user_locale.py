"""Which language one person reads: their Slack locale (users.info with include_locale), cached.

Ephemerals, modals and the App Home are rendered `with i18n.speaking(locale_for_user(client, user)):`. A Slack
locale dtsbot speaks (en-US, en-GB → en; zh-CN → zh-CN) wins; any other one (zh-TW, ja-JP, …), or a users.info
that fails, falls back to the channel language (`slack.language`).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core import i18n

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600.0
"""A person rarely changes their Slack language; an hour-old answer is good enough and spares users.info."""

_cache: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


def language_of(slack_locale: str | None) -> str | None:
    """The dtsbot language for a Slack locale such as `en-US` or `zh-CN`, or None when dtsbot does not speak it."""
    if not slack_locale:
        return None
    if slack_locale.lower().startswith("en"):
        return i18n.ENGLISH
    if slack_locale.replace("_", "-").lower() == "zh-cn":
        return i18n.CHINESE
    return None


def locale_for_user(client: WebClient, user_id: str) -> str:
    """The language to render `user_id`'s private text in: their Slack locale, else the channel language."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(user_id)
    if cached is None or now - cached[0] > CACHE_SECONDS:
        try:
            answer = client.users_info(user=user_id, include_locale=True)
            cached = (now, language_of((answer.get("user") or {}).get("locale")))
        except (SlackApiError, OSError) as error:  # OSError: Slack unreachable
            log.warning("users.info for %s failed (%s): using the channel language", user_id, error)
            return i18n.channel_language()
        with _lock:
            _cache[user_id] = cached
    return cached[1] or i18n.channel_language()


def known_locale(user_id: str) -> str | None:
    """The language already looked up for `user_id` (no Slack call: for an ack, which must not wait), or None."""
    with _lock:
        cached = _cache.get(user_id)
    return cached[1] if cached else None


def form_language(user_id: str) -> str:
    """The language of a form opened for `user_id` now: theirs when already known, else the channel's. A form
    must open within Slack's 3 s (its trigger_id expires), so it never waits for users.info."""
    return known_locale(user_id) or i18n.channel_language()


def learn(client: WebClient, user_id: str) -> None:
    """Look up `user_id`'s language after their form opened (off Slack's 3 s), for their next form."""
    if known_locale(user_id) is None:
        locale_for_user(client, user_id)


def forget() -> None:
    """Drop the cached locales (a test changing a person's locale; a workspace switch)."""
    with _lock:
        _cache.clear()

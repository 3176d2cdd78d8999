"""Opening a modal within Slack's 3 s: `views.open` first, in a language known without asking Slack.

A trigger_id expires 3 s after the click or command. The form is rendered in the person's language when it is
already known (cached), else in the channel's (`slack.language`), and opened at once; the person's Slack locale is
looked up only afterwards (users.info), so their next form and replies use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.user_locale import form_language, learn
from core import i18n


def open_form(client: WebClient, trigger_id: str, user_id: str, view: Callable[[], dict[str, Any]]) -> None:
    """`views.open` with `view()` rendered in `user_id`'s known language or the channel's; then learn theirs."""
    with i18n.speaking(form_language(user_id)):
        client.views_open(trigger_id=trigger_id, view=view())
    learn(client, user_id)

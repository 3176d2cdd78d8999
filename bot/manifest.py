"""The Slack app manifest for the configured mode: paste it at api.slack.com/apps → "From an app manifest".

HTTP mode needs the public URL Slack posts to (`--url`); Socket Mode (slack.app_token set) needs none.
"""

from __future__ import annotations

from typing import Any

from core.config import Settings

COMMAND = "/dts-migrate"
USAGE_HINT = "[help | list | status ID | cancel ID | source_account=… target_account=… …]"
BOT_SCOPES = (
    "commands",  # /dts-migrate
    "chat:write",  # the request message, thread notices, ephemeral replies, DMs (reminders, expiry)
    "im:write",  # the alerts' DMs to approvers (core/alerts.py), each in the person's DM with the bot
    "users:read",  # who clicked, for the audit log
    "users:read.email",  # approvers given as e-mail addresses (users.lookupByEmail)
    "usergroups:read",  # approvers given as user groups (usergroups.users.list)
    "channels:read",  # the configured channel's details
)

BOT_EVENTS = ("app_home_opened",)  # publish the person's Home tab (views.publish needs no extra scope)


def manifest(settings: Settings, public_url: str = "https://dtsbot.example.com") -> dict[str, Any]:
    """The manifest as a dict (print it as YAML or JSON)."""
    socket_mode = settings.slack.app_token is not None
    events_url = public_url.rstrip("/") + "/slack/events"
    command: dict[str, Any] = {
        "command": COMMAND, "description": "Cross-account Tencent Cloud DTS migration, approved by both owners",
        "usage_hint": USAGE_HINT, "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    if not socket_mode:
        command["url"] = events_url
        interactivity["request_url"] = events_url
        events["request_url"] = events_url
    return {
        "display_information": {
            "name": "dtsbot",
            "description": "Runs cross-account DTS migrations after both account owners approve.",
        },
        "features": {
            "bot_user": {"display_name": "dtsbot", "always_online": True},
            "slash_commands": [command],
            # the Home tab lists what waits for you; the Messages tab holds the bot's DMs (read-only)
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": True},
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }

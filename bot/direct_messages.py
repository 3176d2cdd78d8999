"""Block Kit for direct messages (DMs): the reminder before expiry to a side's approvers, and the requester's
notice that their request expired. Pure functions, like bot/blocks.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks import escape, render, section
from storage.models import MigrationRequest


def slack_date(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with the UTC time as the fallback."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def _route(request: MigrationRequest) -> str:
    return (f"{escape(request.source_account)} `{escape(request.source_instance)}` → "
            f"{escape(request.target_account)} `{escape(request.target_instance)}`")


def _link(permalink: str | None) -> str:
    return f" <{permalink}|Open the request>" if permalink else ""


def reminder(request: MigrationRequest, side: str, expires_at: datetime, permalink: str | None) -> dict[str, Any]:
    """The one reminder to an approver of `side` who has not decided yet."""
    text = (f":alarm_clock: *{request.id}* ({_route(request)}) is waiting for your approval of the *{side}* side. "
            f"It expires {slack_date(expires_at)} unless both sides approve.{_link(permalink)}\n"
            "Approve or reject it in the channel, or in dtsbot's Home tab.")
    return render([section(text, block_id="reminder")],
                  f"Reminder: {request.id} waits for your approval of the {side} side")


def expired(request: MigrationRequest, hours: float, permalink: str | None) -> dict[str, Any]:
    """Tells the requester that their request expired before both sides approved."""
    text = (f":alarm_clock: Your request *{request.id}* ({_route(request)}) expired: it was not approved by both "
            f"sides within {hours:g} hours.{_link(permalink)} Open a new request to try again.")
    return render([section(text, block_id="expired")], f"Your request {request.id} expired")

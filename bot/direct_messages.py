"""Block Kit for direct messages (DMs): the reminder before expiry to a side's approvers, and the requester's
notice that their request expired. Pure functions, like bot/blocks.py, rendered in the recipient's language
(bot/notifier.py renders each DM inside their `i18n.speaking`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.blocks import SIDE_WORDS, escape, render, section
from core.diagnosis import explain
from core.i18n import _
from storage.models import MigrationRequest


def slack_date(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with the UTC time as the fallback."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def _route(request: MigrationRequest) -> str:
    return (f"{escape(request.source_account)} `{escape(request.source_instance)}` → "
            f"{escape(request.target_account)} `{escape(request.target_instance)}`")


def _link(permalink: str | None) -> str:
    if not permalink:
        return ""
    label = _("Open the request")
    return f" <{permalink}|{label}>"


def reminder(request: MigrationRequest, side: str, expires_at: datetime, permalink: str | None) -> dict[str, Any]:
    """The one reminder to an approver of `side` who has not decided yet."""
    side_name = _(SIDE_WORDS[side]) if side in SIDE_WORDS else side
    text = _(":alarm_clock: *{id}* ({route}) is waiting for your approval of the *{side}* side. "
             "It expires {expires} unless both sides approve.{link}\n"
             "Approve or reject it in the channel, or in dtsbot's Home tab.",
             id=request.id, route=_route(request), side=side_name, expires=slack_date(expires_at),
             link=_link(permalink))
    return render([section(text, block_id="reminder")],
                  _("Reminder: {id} waits for your approval of the {side} side", id=request.id, side=side_name))


def expired(request: MigrationRequest, hours: float, permalink: str | None) -> dict[str, Any]:
    """Tells the requester that their request expired before both sides approved."""
    text = _(":alarm_clock: Your request *{id}* ({route}) expired: it was not approved by both sides within "
             "{hours} hours.{link} Open a new request to try again.",
             id=request.id, route=_route(request), hours=f"{hours:g}", link=_link(permalink))
    return render([section(text, block_id="expired")], _("Your request {id} expired", id=request.id))


def needs_side(request: MigrationRequest, side: str, code: str, permalink: str | None) -> dict[str, Any]:
    """Tells an approver of `side` that the request stopped on something only that account can fix (a low
    balance, too many idle DTS tasks), with the diagnosis' why and fix."""
    why, fix = explain(code, request)
    side_name = _(SIDE_WORDS[side]) if side in SIDE_WORDS else side
    text = _(":bell: *{id}* ({route}) stopped and needs an approver of the *{side}* account: {why}\n"
             "*Fix:* {fix}{link}", id=request.id, route=_route(request), side=side_name, why=why, fix=fix,
             link=_link(permalink))
    return render([section(text, block_id="needs_side")],
                  _("{id} needs the {side} account: {why}", id=request.id, side=side_name, why=why))

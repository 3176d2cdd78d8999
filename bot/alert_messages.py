"""Block Kit for the alerts' direct messages (core/alerts.py): what happened to which migration, a link to its
thread, and *Snooze*. Pure functions like bot/direct_messages.py, rendered in the recipient's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from bot.blocks import button, escape, render, section
from bot.direct_messages import _link, _route
from core.i18n import N_, _
from storage.models import MigrationRequest

EVENTS = ("alert", "alert_cleared")
SNOOZE = "snooze_alerts"
"""The action_id of the DM's *Snooze* button (its value: the request id)."""

_ALERT = {
    "lag": N_(":warning: *{id}* ({route}): DTS task `{job}` has been more than {seconds} s behind the source for "
              "{minutes} min (now {seen} s)."),
    "stall": N_(":warning: *{id}* ({route}): the full load of DTS task `{job}` has not moved for {minutes} min."),
    "error": N_(":rotating_light: *{id}* ({route}): DTS task `{job}` is `{seen}`: DTS stopped migrating."),
}
_CLEARED = {
    "lag": N_(":white_check_mark: *{id}* ({route}) is back to normal: DTS task `{job}` is {seen} s behind."),
    "stall": N_(":white_check_mark: *{id}* ({route}) is back to normal: the full load of `{job}` moves again."),
    "error": N_(":white_check_mark: *{id}* ({route}) is back to normal: DTS task `{job}` is `{seen}`."),
}


def alert_dm(request: MigrationRequest, payload: Mapping[str, Any], minutes: float, seconds: int,
             snooze_hours: float, permalink: str | None) -> dict[str, Any]:
    """The DM of an alert (with *Snooze*) or of its "back to normal"."""
    kind = str(payload.get("kind"))
    cleared = payload.get("event") == "alert_cleared"
    table = _CLEARED if cleared else _ALERT
    text = _(table.get(kind, table["error"]), id=request.id, route=_route(request), job=escape(request.job_id or "-"),
             seen=escape(payload.get("seen", "")), minutes=f"{minutes:g}", seconds=seconds) + _link(permalink)
    blocks: list[Any] = [section(text, block_id="alert")]
    if not cleared:
        blocks.append(ActionsBlock(block_id="alert_actions", elements=[
            button(SNOOZE, _("Snooze {hours} h", hours=f"{snooze_hours:g}"), request.id)]))
    return render(blocks, text)

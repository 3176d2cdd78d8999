"""The cutover window both owners approved (`cutover_at`): a reminder before it, the checklist when it opens.

DTS has no timed complete (`CompleteMigrateJob` runs when called), so the bot owns the window: the gate's window
item (core.cutover) holds from `cutover_at` on, the approvers are reminded `cutover.reminder_minutes` before it,
and the thread gets Tencent's cutover checklist when it opens. Times are read with the clients' clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.cloud import CloudClients
from core.i18n import _
from storage.facts import Facts
from storage.models import MigrationRequest


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def checklist() -> str:
    """Tencent's cutover guidance as the thread's checklist."""
    return "\n".join([
        _(":clipboard: *Cutover checklist*"),
        _("1. Stop writes on the source (the application, jobs, replicas that write)."),
        _("2. Check that no sessions remain on the source for a few minutes (SHOW PROCESSLIST or the console)."),
        _("3. Wait for the lag to read 0 s and 0 MB (the request message)."),
        _("4. Make sure the consistency check concluded *same*."),
        _("5. Then a target approver clicks *Complete*."),
    ])


def follow(facts: Facts, request: MigrationRequest, clients: CloudClients, at: datetime | None,
           notices: list[str], opening: bool = True) -> dict[str, Any]:
    """The facts the window changes now (reminded, opened), with the thread's notices appended to `notices`;
    `opening` False: only the reminder (DTS still migrates: the checklist waits until the task is ready)."""
    if at is None:
        return {}
    now = clients.clock()
    changes: dict[str, Any] = {}
    minutes = clients.settings.cutover.reminder_minutes
    if not facts.cutover_reminded and minutes and at.timestamp() - minutes * 60 <= now < at.timestamp():
        changes["cutover_reminded"] = True
        notices.append(_(":alarm_clock: The cutover window opens at {at} (in {minutes} min): approvers of both "
                         "sides, get ready.", at=_at(at), minutes=max(1, round((at.timestamp() - now) / 60))))
    if opening and not facts.cutover_window_opened and now >= at.timestamp():
        changes.update(cutover_reminded=True, cutover_window_opened=True)
        notices.append(_(":door: The cutover window is open ({at}).", at=_at(at)) + "\n" + checklist())
    return changes

"""The cutover gate: the evidence *Complete* waits for, as data, and the two-sided override of what is missing.

Tencent's cutover guidance: wait until the incremental lag is 0 s and 0 MB, stop writes on the source, check that
no sessions remain for a few minutes, then complete. The gate asks for (`ITEMS`):
- lag: both figures (core.lag) read 0 and have held there for `cutover.hold_minutes`;
- compare: the consistency check (handlers/compare_data.py) concluded `same` (not asked when `cutover.compare:
  off`; a link DTS cannot compare reads "not available" and needs the override);
- window: the request's `cutover_at`, when one was set, has come.
The evidence is computed by the step that watches a ready task (handlers/watch_cutover.py) and kept in the facts
(`cutover_evidence`); *Complete* is refused server-side unless every item holds or one approver of *each* side
overrode the gate with a reason (`cutover_overrides`, audited and said in the thread).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core import lag
from core.cloud import CloudClients
from core.config import Settings
from core.i18n import N_, _
from storage.facts import Facts
from storage.models import MigrationRequest

ITEMS = ("lag", "compare", "window")
SIDES = ("source", "target")

_WORDS: dict[tuple[str, str], str] = {
    ("lag", "held"): N_("Lag 0 s and 0 MB, held {held} min (needs {needed} min)"),
    ("lag", "holding"): N_("Lag 0 s and 0 MB for {held} min of the {needed} min it must hold"),
    ("lag", "behind"): N_("Lag {figures}: not at 0 s and 0 MB"),
    ("lag", "unknown"): N_("Lag {figures}: DTS gives no figure, so zero cannot be shown"),
    ("compare", "same"): N_("Consistency check ({method}) concluded *same*"),
    ("compare", "stale"): N_("Consistency check concluded *same*, but the lag rose after it: the data may have "
                             "changed since, run *Check data* again"),
    ("compare", "different"): N_("Consistency check found *differences*"),
    ("compare", "running"): N_("Consistency check running ({status})"),
    ("compare", "none"): N_("Consistency check not run yet (*Check data*)"),
    ("compare", "failed"): N_("Consistency check did not conclude ({status}): run *Check data* again"),
    ("compare", "skipped"): N_("Consistency check skipped every table (skipAll)"),
    ("compare", "partial"): N_("Consistency check concluded *same* but skipped {skipped} tables: override needed"),
    ("compare", "unavailable"): N_("Consistency check not available for this link (DTS): override needed"),
    ("compare", "off"): N_("Consistency check not asked for (`cutover.compare: off`)"),
    ("window", "open"): N_("Cutover window open since {at}"),
    ("window", "closed"): N_("Cutover window opens at {at}"),
    ("window", "none"): N_("No cutover window set"),
}


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _lag_item(facts: Facts, settings: Settings, now: float) -> dict[str, Any]:
    needed = settings.cutover.hold_minutes
    held = lag.held_seconds(facts, now)
    figures = lag.words(facts.lag_seconds, facts.lag_mb)
    if held is not None:
        state = "held" if held >= needed * 60 else "holding"
        return {"item": "lag", "ok": state == "held", "state": state,
                "held": f"{held // 60:.0f}", "needed": f"{needed:g}"}  # whole minutes: one refresh a minute
    unknown = facts.lag_seconds is None or facts.lag_mb is None
    return {"item": "lag", "ok": False, "state": "unknown" if unknown else "behind", "figures": figures}


def _skipped(facts: Facts) -> int:
    return int((facts.compare_report or {}).get("skipped_tables") or 0)


def _stale(facts: Facts) -> bool:
    """A *same* that writes may have followed: the lag has not held at 0 since the check concluded (Tencent's
    guidance checks the data after writes stop). A check from before this fact was kept is taken as it is."""
    if facts.compare_finished_at is None:
        return False
    return facts.lag_zero_since is None or facts.lag_zero_since > facts.compare_finished_at


def compare_state(facts: Facts, settings: Settings) -> str:
    """The compare item's state from the facts the compare step keeps."""
    if facts.compare_conclusion == "unavailable":
        return "unavailable"
    if settings.cutover.compare == "off":
        return "off"
    if facts.compare_conclusion == "same" and _skipped(facts):
        return "partial"  # a table DTS skipped (no primary key, …) was not checked: *same* says nothing of it
    if facts.compare_conclusion == "same" and _stale(facts):
        return "stale"
    if facts.compare_conclusion in ("same", "different"):
        return str(facts.compare_conclusion)
    if facts.compare_conclusion == "skipAll":
        return "skipped"
    if facts.compare_status in ("failed", "canceled"):
        return "failed"
    if facts.compare_task_id or facts.compare_wanted:
        return "running"
    return "none"


def evidence(facts: Facts, settings: Settings, cutover_at: datetime | None, now: float) -> list[dict[str, Any]]:
    """Every gate item as {item, ok, state, ...words' parameters}, in `ITEMS` order."""
    compare = compare_state(facts, settings)
    window: dict[str, Any] = {"item": "window", "ok": True, "state": "none"}
    if cutover_at is not None:
        opened = now >= cutover_at.timestamp()
        window = {"item": "window", "ok": opened, "state": "open" if opened else "closed", "at": _at(cutover_at)}
    return [_lag_item(facts, settings, now),
            {"item": "compare", "ok": compare in ("same", "off"), "state": compare,
             "status": facts.compare_status or "-", "skipped": _skipped(facts),
             "method": settings.cutover.compare_method},
            window]


def all_in(items: list[dict[str, Any]] | None) -> bool:
    """Whether every item of the evidence holds (no evidence computed yet: no)."""
    return bool(items) and all(item.get("ok") for item in items or [])


def missing(facts: Facts) -> list[str]:
    """The gate's items that do not hold at the last reading, as `item:state` (an override of a lag still holding
    does not cover a lag behind, nor one of a compare running a compare that found differences)."""
    return [f"{item.get('item')}:{item.get('state')}" for item in facts.cutover_evidence or [] if not item.get("ok")]


def covered(facts: Facts, item: str) -> bool:
    """Whether both sides' halves of the override cover `item` (`item:state`, missing when each was given)."""
    given = facts.cutover_overrides or {}
    return all(item in (given.get(side) or {}).get("items", ()) for side in SIDES)


def uncovering(facts: Facts) -> list[str]:
    """The sides whose half of the override no longer covers the missing evidence (an item went missing after
    it was given, a lag that rose again): such a half is void."""
    gone = missing(facts)
    return [side for side, given in sorted((facts.cutover_overrides or {}).items())
            if not set(gone) <= set(given.get("items") or ())]


def overridden(facts: Facts) -> bool:
    """Whether one approver of each side overrode the missing evidence, every missing item covered by both."""
    return set(SIDES) <= set(facts.cutover_overrides or {}) and all(covered(facts, item) for item in missing(facts))


def gate_open(facts: Facts) -> bool:
    """*Complete* may run: the evidence is all in, or both sides overrode the gate."""
    return all_in(facts.cutover_evidence) or overridden(facts)


def refusal(facts: Facts) -> str | None:
    """Why *Complete* is refused now (the missing items), or None."""
    if gate_open(facts):
        return None
    missing = [line(item) for item in facts.cutover_evidence or [] if not item.get("ok")]
    return _("The cutover gate is closed: {missing}. Wait for the evidence, or one approver of each side "
             "overrides it with a reason.", missing="; ".join(missing) or _("the evidence is not gathered yet"))


def line(item: Mapping[str, Any]) -> str:
    """One item in words, in the current language."""
    words = _WORDS.get((str(item.get("item")), str(item.get("state"))))
    if words is None:
        return str(item.get("item"))
    params = {"method": "-", "skipped": 0, **{k: v for k, v in item.items() if k not in ("item", "ok", "state")}}
    return _(words, **params)  # the defaults: evidence a previous version stored without them


def evidence_lines(facts: Facts) -> list[str]:
    """The request message's evidence list, ✓/✗ per item, and the overrides given."""
    lines = [("✓ " if item.get("ok") else "✗ ") + line(item) for item in facts.cutover_evidence or []]
    for side, given in sorted((facts.cutover_overrides or {}).items()):
        lines.append(_("⚠ Overridden for the {side} side by <@{user}>: {reason}", side=_(side),
                       user=given.get("user", "?"), reason=_quoted(given.get("reason", ""))))
    return lines


def _quoted(text: str) -> str:
    return "`" + text.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace("\n", " ")[:300] + "`"


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its zone (as the request's `cutover_at`/`start_at` fields store it), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def cutover_at(request: MigrationRequest) -> datetime | None:
    """The request's agreed cutover window (its `cutover_at` field), or None."""
    return parse_time(getattr(request, "cutover_at", None))


def readings(request: MigrationRequest, clients: CloudClients, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The facts one reading of a ready task gives: status, both lag figures and their history, the evidence."""
    now = clients.clock()
    seconds, mb = lag.figures(detail)
    facts: dict[str, Any] = {"dts_status": str(detail.get("Status")), **lag.sample(request.facts, now, seconds, mb,
                                                                           clients.settings.scheduler.poll_seconds)}
    facts["cutover_evidence"] = evidence(request.facts.merged(facts), clients.settings, cutover_at(request), now)
    return facts


def gate_actions(facts: Facts, settings: Settings) -> tuple[str, ...]:
    """The buttons a ready notice carries: *Complete* when the gate is open, else *Check data* and *Override*."""
    if gate_open(facts):
        return ("complete",)
    return ("check_data", "override_gate") if settings.cutover.compare != "off" else ("override_gate",)

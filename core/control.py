"""Live control of a running DTS task: its rate limits (*Throttle*) as data, and the decision that takes a request
to `throttling` (the step, handlers/throttle_task.py, applies them with ModifyMigrateRateLimit off the request path).

`RATE_LIMITS` holds each limit's documented range (SDK dts/v20211206 `ModifyMigrateRateLimitRequest`: DumpThread
and LoadThread 1-16, SinkerThread 1-128, DumpRps "greater than 0"; `RateLimitOption`: Rps at most 50000000; LoadRps'
range is undocumented and read as DumpRps'). Every control decision is audited with step="control" (the migration
report reads those rows), and said in the thread: who changed what, from and to which figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core import requests as core_requests
from core.approvals import MembersOf
from core.config import Settings
from core.i18n import _, for_channel
from core.permissions import Action, refusal
from core.requests import Decision, MigrationRequests
from core.workflow import State
from storage import outbox, repository
from storage.db import session_scope
from storage.models import MigrationRequest

RATE_LIMITS: dict[str, tuple[int, int]] = {
    "DumpThread": (1, 16), "DumpRps": (1, 50_000_000), "LoadThread": (1, 16), "LoadRps": (1, 50_000_000),
    "SinkerThread": (1, 128),
}
"""Each DTS rate limit by its API name → (lowest, highest) value DTS documents."""
CONFIG_NAMES = {"DumpThread": "dump_thread", "DumpRps": "dump_rps", "LoadThread": "load_thread",
                "LoadRps": "load_rps", "SinkerThread": "sinker_thread"}
"""The API name → its key under `accounts[].rate_limit`."""
AUDIT_STEP = "control"


def resume_words(dumper_resume: str | None) -> str:
    """What continuing a paused task does to its full export, by DTS's DumperResumeCtrl."""
    if dumper_resume == "no":
        return _("DumperResumeCtrl `no`: the full export cannot resume from a checkpoint and *starts over* when the "
                 "task continues.")
    if dumper_resume == "yes":
        return _("DumperResumeCtrl `yes`: the task resumes where it stopped when it continues.")
    return _("DTS does not say whether the full export resumes or starts over (no DumperResumeCtrl).")


def configured_limits(settings: Settings, source_account: str, target_account: str) -> dict[str, int]:
    """The limits a new task is configured with (`MigrateOption.RateLimit`): each set by either account, the
    lower one when both set it."""
    limits: dict[str, int] = {}
    for name in (source_account, target_account):
        configured = settings.account(name).rate_limit
        if configured is None:
            continue
        for api_name, key in CONFIG_NAMES.items():
            value = getattr(configured, key)
            if value is not None:
                limits[api_name] = min(value, limits.get(api_name, value))
    return limits


def current_limits(detail: Mapping[str, Any]) -> dict[str, int] | None:
    """The task's limits now, from DescribeMigrationDetail's RateLimitOption (`Current*`), or None when absent."""
    option = detail.get("RateLimitOption") or {}
    values = {name: option.get(f"Current{name}") for name in RATE_LIMITS}
    found = {name: int(value) for name, value in values.items() if isinstance(value, int)}
    return found or None


def validate_limits(fields: Mapping[str, str | None]) -> tuple[dict[str, int], dict[str, str]]:
    """(the limits asked for, errors by field) from the Throttle form; an empty field keeps its current value."""
    wanted: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in RATE_LIMITS.items():
        raw = (fields.get(name) or "").strip().replace(",", "")
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            errors[name] = _("{name} must be a whole number from {low} to {high} (DTS's documented range).",
                             name=name, low=low, high=high)
            continue
        wanted[name] = int(raw)
    return wanted, errors


def changes_text(before: Mapping[str, int] | None, wanted: Mapping[str, int]) -> str:
    """"DumpThread 8 → 2, DumpRps 100000 → 5000": each asked-for limit from its last read value ("?" unknown)."""
    return ", ".join(f"{name} {(before or {}).get(name, '?')} → {value}" for name, value in wanted.items())


class Controls:
    """The control decisions the Slack surface takes besides Pause/Continue (those are MigrationRequests.resume's
    `pause` and `continue`): *Throttle*."""

    def __init__(self, requests: MigrationRequests, run_now: Callable[[str], None] | None = None) -> None:
        self.requests, self.settings = requests, requests.settings
        self.run_now = run_now or requests.run_now

    def may_throttle(self, request_id: str, user: str) -> Decision:
        """Whether `user` may open the Throttle form of the request now (permission and state). Slack is asked
        lazily, only about the entries a rule reaches (an approver listed by ID needs no lookup), so the form opens
        within the trigger's 3 s; `throttle` checks again under the row lock."""
        request = self.requests.get(request_id)
        if request is None:
            return Decision(False, _("No such request."))
        why = self._throttle_refusal(request, user, self.requests.members_of)
        return Decision(why is None, why or "", request)

    def _throttle_refusal(self, request: MigrationRequest, user: str, members_of: MembersOf) -> str | None:
        """Why `user` may not throttle `request` now (permission, then state), or None."""
        why = refusal(self.settings, Action.THROTTLE, request, user, members_of)
        if why is None and request.state != State.RUNNING:
            why = _("{id} is {state}; DTS changes rate limits only while the task runs.", id=request.id,
                    state=request.state)
        return why

    def throttle(self, request_id: str, user: str, wanted: Mapping[str, int]) -> Decision:
        """running → throttling with the limits asked for; the step applies them. Audited (step="control") and
        said in the thread with each limit from → to."""
        members_of = self.requests._memberships(user)  # before the write transaction: it may call Slack
        with session_scope(self.requests.db) as session:
            request = core_requests._locked(session, request_id.strip().lower())
            if request is None:
                return Decision(False, _("No such request."))
            why = self._throttle_refusal(request, user, members_of)
            if why is None and not wanted:
                why = _("No rate limit was given: nothing to change.")
            if why:
                return self.requests._refuse(session, request.id, user, "throttle", why, request)
            changes = changes_text(request.facts.rate_limit, wanted)
            facts = request.facts.merged({"round": request.facts.round + 1, "rate_limit_wanted": dict(wanted),
                                          "control_sent_at": None})
            core_requests._transition(session, request, State.THROTTLING, facts=facts, next_run_at=None,
                                      attempts=0)
            repository.audit(session, AUDIT_STEP, "requested", request.id, actor=user, action="throttle",
                             detail=changes[:2000])
            outbox.enqueue(session, request.id, f"{request.id}:throttle:{request.facts.round}", "thread", {
                "event": "throttle", "user": user,
                "text": for_channel(":control_knobs: Rate limits change requested: {changes}.", changes=changes)})
            outbox.request_refresh(session, request.id)
        self.run_now(request.id)
        return Decision(True, _("Rate limits of {id} are being changed: {changes}.", id=request.id,
                                changes=changes), request, changed=True)

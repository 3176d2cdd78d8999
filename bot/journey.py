"""The whole journey of a request as people see it on the request message: a compact step list (✓ done,
⏳ now, ✗ failed here, · still to come, ⚠ done by the bot but left open by design), the DTS progress as a bar with the lag, and DTS's states in plain words.

Every user-visible word is in the tables below, marked N_ for the catalog and translated where it is rendered
(core/i18n.py), so a step list reads in the language it is rendered in. Pure functions of a request as the
thread last showed it (storage.outbox's snapshot), so the message never runs ahead of its notices.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.dts_words import status_words
from core.i18n import N_, _
from core.workflow import State
from storage.models import MigrationRequest

S = State
DONE, NOW, FAILED, LATER, LEFT_OPEN = "✓", "⏳", "✗", "·", "⚠"
BAR_CELLS = 10
BAR_FULL, BAR_EMPTY = "▓", "░"


@dataclass(frozen=True)
class Step:
    """One step of the journey: its label and the request states in which it is the current step."""

    key: str
    label: str
    states: frozenset[State]


JOURNEY: tuple[Step, ...] = (
    Step("approval", N_("Both owners approve"), frozenset({S.REQUESTED, S.APPROVED})),
    Step("source_role", N_("Source account: CAM role"), frozenset({S.AUTHORIZING_SOURCE})),
    Step("grant", N_("Target sub-account: sts:AssumeRole grant"), frozenset({S.GRANTING_SUBACCOUNT})),
    Step("preflight", N_("Preflight: assume the role, list the source"), frozenset({S.PREFLIGHT})),
    Step("buy", N_("Buy the DTS task"), frozenset({S.CREATING_TASK})),
    Step("configure", N_("Configure the DTS task"), frozenset({S.CONFIGURING})),
    Step("verify", N_("Verify"), frozenset({S.VERIFYING, S.VERIFY_FAILED})),
    Step("start", N_("Start"), frozenset({S.STARTING})),
    Step("migrate", N_("Migrate"), frozenset({S.RUNNING, S.READY_TO_COMPLETE, S.COMPLETING, S.RESUMING_TASK,
                                              S.PAUSING, S.PAUSED, S.CONTINUING, S.THROTTLING})),
    Step("revoke", N_("Revoke the cross-account access"), frozenset({S.REVOKING_ACCESS})),
)
"""The main path in order; cancelling, rejected and expired requests left it and show no step list."""

BY_OWNER = N_(" (by the account owner)")
WAITING_FOR_OWNER = N_("waiting for the account owner")
PERSONS_ROLE_LEFT = N_("role `{role}` was not made by the bot and is left as it is: it still trusts {account} root "
                       "until its owner changes it")

MIGRATING_FULL = N_("migrating full data")
CATCHING_UP = N_("catching up: {lag} s behind")
CATCHING_UP_UNKNOWN = N_("catching up")
LAG = N_(" · lag {lag} s")
RAW_STATE = N_("State `{state}`")
RAW_DTS = N_("DTS `{status}`")
RAW_STEP = N_("DTS step {now}/{all}")
STEP_DETAIL = N_("{step}: {detail}")
STATUS_WITH_LAG = N_("{status} ({catching_up})")


def _index(key: str) -> int:
    return next(i for i, step in enumerate(JOURNEY) if step.key == key)


MIGRATE = _index("migrate")


def current_index(request: MigrationRequest) -> int | None:
    """Index in JOURNEY of the step the request is at (the failed one when failed), or None off the path."""
    state = State(request.state)
    if state is S.SUCCEEDED:
        return len(JOURNEY)
    if state is S.FAILED:
        state = State(request.failed_step) if request.failed_step else state
    if state is S.AWAITING_OWNER:
        return _index("grant" if request.facts.guided_side == "target" else "source_role")
    return next((i for i, step in enumerate(JOURNEY) if state in step.states), None)


def steps(request: MigrationRequest, guided: frozenset[str] = frozenset()) -> list[str]:
    """The step list, one line per step; `guided`: keys of steps an account owner does by hand.

    The grant step is left out when the root account runs the task (there is nothing to grant)."""
    at = current_index(request)
    if at is None:
        return []
    owner_closes = owner_still_closes(request, guided)
    if owner_closes:  # the migration is over, the door is not: closing it is the owner's step now
        at = _index("revoke")
    failed = State(request.state) in (S.FAILED, S.VERIFY_FAILED)
    lines = []
    for index, step in enumerate(JOURNEY):
        if step.key == "grant" and request.executor == "root":
            continue
        mark = DONE if index < at else LATER if index > at else FAILED if failed else NOW
        label = _(step.label) + (_(BY_OWNER) if step.key in guided else "")
        if index == at and (State(request.state) is S.AWAITING_OWNER or owner_closes):
            label = _(STEP_DETAIL, step=label, detail=_(WAITING_FOR_OWNER))
        if index == at and step.key == "migrate" and not failed:
            label = _(STEP_DETAIL, step=label, detail=dts_words(request))
        if step.key == "revoke" and mark == DONE and persons_role_left(request, guided):
            mark, label = LEFT_OPEN, _(STEP_DETAIL, step=label, detail=_(
                PERSONS_ROLE_LEFT, role=request.role_name, account=request.target_account))
        lines.append(f"{mark} {label}")
    return lines


def owner_still_closes(request: MigrationRequest, guided: frozenset[str]) -> bool:
    """A succeeded request whose cross-account access an owner closes by hand (`revoke` in `guided`: a guided
    source's role) and which *Role deleted — check* has not proved closed yet."""
    return "revoke" in guided and State(request.state) is S.SUCCEEDED and not request.facts.role_gone_proof


def persons_role_left(request: MigrationRequest, guided: frozenset[str]) -> bool:
    """A succeeded request that used, as it is, a role a person made in a managed source account: the bot's
    revoke left that role (and its trust of the target root) to its owner."""
    return ("revoke" not in guided and State(request.state) is S.SUCCEEDED and bool(request.facts.role_used)
            and request.facts.role_owner is None)


def dts_words(request: MigrationRequest) -> str:
    """What the DTS task is doing, in plain words: "migrating full data", "catching up: 3 s behind", ..."""
    status = str(request.facts.dts_status or "")
    lag = request.facts.lag_seconds
    if State(request.state) is S.READY_TO_COMPLETE:
        status = status or "readyComplete"
    if status == "running":
        step_now, step_all = request.facts.dts_step_now, request.facts.dts_step_all
        incremental = request.migrate_type == "fullAndIncrement"
        if incremental and step_all and step_now == step_all:
            return _(CATCHING_UP, lag=lag) if isinstance(lag, int) and lag >= 0 else _(CATCHING_UP_UNKNOWN)
        return _(MIGRATING_FULL)
    if status == "readyComplete" and isinstance(lag, int) and lag >= 0:
        return _(STATUS_WITH_LAG, status=status_words(status), catching_up=_(CATCHING_UP, lag=lag))
    return status_words(status or "readyRun")


def bar(progress: int | None) -> str:
    """A ten-cell progress bar with the percentage, e.g. `▓▓▓▓▓░░░░░ 50%`."""
    percent = max(0, min(100, int(progress or 0)))
    full = percent * BAR_CELLS // 100
    return f"`{BAR_FULL * full}{BAR_EMPTY * (BAR_CELLS - full)}` {percent}%"


def lag(request: MigrationRequest) -> str:
    """" · lag N s" when DTS gave a valid replication lag (it gives -1 before catching up), else ""."""
    seconds = request.facts.lag_seconds
    return _(LAG, lag=seconds) if isinstance(seconds, int) and seconds >= 0 else ""


def raw_states(request: MigrationRequest) -> str:
    """The raw names behind the plain words, for a context line: the request's state, DTS's status and step."""
    parts = [_(RAW_STATE, state=request.state)]
    if request.facts.dts_status and State(request.state) in JOURNEY[MIGRATE].states:
        parts.append(_(RAW_DTS, status=request.facts.dts_status))
        if request.facts.dts_step_all:
            parts.append(_(RAW_STEP, now=request.facts.dts_step_now, all=request.facts.dts_step_all))
    return " · ".join(parts)

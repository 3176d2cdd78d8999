"""The incremental sync's lag as people can trust it: both figures DTS gives, "unknown" where it gives none.

`DescribeMigrationDetail` → `StepInfo.SecondsBehindMaster` (s) and `StepInfo.MasterSlaveDistance` (MB) are valid
only in the last step (catching up on the binlog) of a healthy task; an invalid figure is -1 (SDK dts/v20211206
`MigrateDetailInfo`). Absent or negative reads as unknown (None), never as 0. A short history (the last hour,
bounded) is kept in the request's facts so the request message can show it and the gate can ask whether the lag
has *held* at zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.i18n import _
from storage.facts import Facts

HISTORY_SECONDS = 3600.0
MAX_SAMPLES = 120
SPARK = "▁▂▃▄▅▆▇█"
POLLS_IN_A_GAP = 3
"""Readings further apart than three polls (of 30 s, or the scheduler's longer `poll_seconds`) prove nothing of the
lag between them: the hold starts again at the reading after the gap (the bot was down, the scheduler stalled)."""


def _figure(value: Any) -> int | None:
    """A documented figure, or None when DTS gave none or an invalid one (-1)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def figures(detail: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(seconds, MB) behind the source from a DescribeMigrationDetail answer; None where unknown."""
    info = detail.get("StepInfo") or {}
    return _figure(info.get("SecondsBehindMaster")), _figure(info.get("MasterSlaveDistance"))


def sample(facts: Facts, now: float, seconds: int | None, mb: int | None, poll_seconds: float = 30.0
           ) -> dict[str, Any]:
    """The facts a new reading changes: both figures, the bounded history, since when both have been 0 (without a
    gap of more than `POLLS_IN_A_GAP` polls between readings)."""
    previous = float((facts.lag_history or [[None]])[-1][0] or 0)
    history = [list(s) for s in facts.lag_history or [] if now - float(s[0] or 0) <= HISTORY_SECONDS]
    if history and now - float(history[-1][0] or 0) < HISTORY_SECONDS / MAX_SAMPLES and len(history) > 1 \
            and now - float(history[-2][0] or 0) < HISTORY_SECONDS / MAX_SAMPLES:
        history.pop()  # polled faster than a sample per 30 s: the newest of the period stands for it
    history = (history + [[now, seconds, mb]])[-MAX_SAMPLES:]
    zero = seconds == 0 and mb == 0
    gap = now - previous > POLLS_IN_A_GAP * max(HISTORY_SECONDS / MAX_SAMPLES, poll_seconds)
    since = (facts.lag_zero_since if facts.lag_zero_since is not None and not gap else now) if zero else None
    return {"lag_seconds": seconds, "lag_mb": mb, "lag_history": history, "lag_zero_since": since}


def held_seconds(facts: Facts, now: float) -> float | None:
    """How long both figures have read 0 (None: they do not now)."""
    return None if facts.lag_zero_since is None else max(0.0, now - facts.lag_zero_since)


def words(seconds: int | None, mb: int | None) -> str:
    """"3 s · 12 MB", with "unknown" for a figure DTS did not give."""
    unknown = _("unknown")
    return _("{seconds} · {mb}", seconds=unknown if seconds is None else _("{n} s", n=seconds),
             mb=unknown if mb is None else _("{n} MB", n=mb))


def sparkline(values: Sequence[int | float | None]) -> str:
    """One character per sample, scaled to the largest; "·" for an unknown sample."""
    known = [v for v in values if v is not None]
    top = max(known, default=0) or 1
    return "".join("·" if v is None else SPARK[min(len(SPARK) - 1, int(len(SPARK) * v / (top + 1e-9)))]
                   if v else SPARK[0] for v in values)


def history_line(facts: Facts) -> str:
    """The request message's lag line: the figures now and the last hour's samples of each, or ""."""
    history = facts.lag_history or []
    if not history:
        return ""
    seconds = [s[1] for s in history]
    mb = [s[2] for s in history]
    top_s = max((v for v in seconds if v is not None), default=None)
    top_mb = max((v for v in mb if v is not None), default=None)
    if top_s is None and top_mb is None:  # DTS gives a lag only while catching up: no curve of unknowns
        return _("*Lag:* {now}", now=words(facts.lag_seconds, facts.lag_mb))
    return _("*Lag:* {now} · last hour: s `{spark_s}` (max {max_s}) · MB `{spark_mb}` (max {max_mb})",
             now=words(facts.lag_seconds, facts.lag_mb), spark_s=sparkline(seconds), spark_mb=sparkline(mb),
             max_s="?" if top_s is None else int(top_s), max_mb="?" if top_mb is None else int(top_mb))

"""A DTS job's rate limits: `MigrateOption.RateLimit` at configure time, `ModifyMigrateRateLimit` while it runs,
`RateLimitOption` in the detail, and how they slow the full load.

Ranges as documented (SDK dts/v20211206 `ModifyMigrateRateLimitRequest`, `RateLimit`, `RateLimitOption`):
DumpThread and LoadThread 1-16, SinkerThread 1-128, DumpRps "需要大于 0" with a maximum of 50,000,000, LoadRps
undocumented in the request (the same maximum as RateLimitOption's). At configure time 0 or unset keeps the current
value. The defaults and the speed model are the sandbox's guesses (README, sandbox guesses): progress goes at the
smallest share of its default any full-load limit allows.
"""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.dts.access import invalid

RANGES = {"DumpThread": (1, 16), "DumpRps": (1, 50_000_000), "LoadThread": (1, 16), "LoadRps": (1, 50_000_000),
          "SinkerThread": (1, 128)}
DEFAULTS = {"DumpThread": 8, "DumpRps": 100_000, "LoadThread": 8, "LoadRps": 100_000, "SinkerThread": 16}
"""The sandbox's defaults (a guess: DTS picks its own per instance class and does not document them)."""
FULL_LOAD = ("DumpThread", "DumpRps", "LoadThread", "LoadRps")


def current(limits: dict[str, int]) -> dict[str, int]:
    """Every limit as it is now: the ones set, else the default."""
    return {name: limits.get(name, default) for name, default in DEFAULTS.items()}


def speed(limits: dict[str, int]) -> float:
    """Share of full speed the full load goes at under `limits` (at most 1)."""
    values = current(limits)
    return min(1.0, *(values[name] / DEFAULTS[name] for name in FULL_LOAD))


def option(limits: dict[str, int]) -> dict[str, Any]:
    """RateLimitOption of the detail."""
    values = current(limits)
    rendered: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        rendered[f"Current{name}"] = values[name]
        rendered[f"Default{name}"] = default
    rendered["HasUserSetRateLimit"] = "yes" if limits else "no"
    return rendered


def modified(limits: dict[str, int], params: dict[str, Any]) -> dict[str, int]:
    """`limits` with ModifyMigrateRateLimit's parameters applied (each sent one must be in its range)."""
    changed = dict(limits)
    for name, (low, high) in RANGES.items():
        if params.get(name) is None:
            continue
        value = int(params[name])
        if not low <= value <= high:
            raise invalid(f"{name}={value} is out of range [{low}, {high}].")
        changed[name] = value
    return changed


def configured(rate_limit: dict[str, Any] | None) -> dict[str, int]:
    """The limits `MigrateOption.RateLimit` sets (0 or unset: the current value, here the default)."""
    limits: dict[str, int] = {}
    for name, (_low, high) in RANGES.items():
        value = int((rate_limit or {}).get(name) or 0)
        if value < 0 or value > high:
            raise invalid(f"MigrateOption.RateLimit.{name}={value} is out of range [0, {high}].")
        if value:
            limits[name] = value
    return limits

"""DTS's task and step statuses in plain words, for the request message (bot/journey.py) and the thread's
tracking notices (handlers/track_task.py); the raw name stays beside them. Every documented value has a word:
tests/handlers/test_dts_enum_drift.py fails on a documented value without one."""

from __future__ import annotations

from core.i18n import N_, _

DTS_STATUS_WORDS: dict[str, str] = {
    "creating": N_("being created"),
    "created": N_("created, not started"),
    "checking": N_("verifying"),
    "checkPass": N_("verified, starting"),
    "checkNotPass": N_("verification failed"),
    "readyRun": N_("starting"),
    "running": N_("migrating"),
    "readyComplete": N_("ready to complete"),
    "success": N_("succeeded"),
    "failed": N_("failed in DTS"),
    "stopping": N_("stopping"),
    "completing": N_("completing"),
    "pausing": N_("pausing"),
    "manualPaused": N_("paused by a person"),
    "resumableErr": N_("retrying after an error"),
    "resuming": N_("resuming after an error"),
    "unknown": N_("status unknown"),
    "error": N_("in error"),
    "canceled": N_("stopped"),
}
"""Every documented DTS task Status (JobItem and DescribeMigrationDetail) in plain words."""


def status_words(status: str) -> str:
    """A task Status in plain words in the current language (the raw value when DTS sends an undocumented one)."""
    return _(DTS_STATUS_WORDS[status]) if status in DTS_STATUS_WORDS else status

"""scheduler.approval_reminder_hours left out adapts to the approval window, so an app.yaml written before
reminders existed (a short window, no reminder key) still loads; set explicitly, it must be below the window."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import ConfigError, parse_settings


def config(**scheduler: Any) -> dict:
    """A minimal configuration with these scheduler keys."""
    return {
        "slack": {"bot_token": "xoxb-1", "signing_secret": "s", "channel": "C0DTSBOT01"},
        "scheduler": scheduler,
        "accounts": [
            {"name": "src", "uin": "100000000001", "approvers": ["U0SRCOWNER"]},
            {"name": "dst", "uin": "100000000002", "approvers": ["U0TGTOWNER"]},
        ],
    }


@pytest.mark.parametrize(("expiry_hours", "reminder_hours"), [(72, 24), (48, 24), (24, 12), (12, 6), (8, 4)])
def test_a_config_without_reminder_hours_loads_with_a_reminder_inside_the_window(expiry_hours: float,
                                                                                 reminder_hours: float) -> None:
    settings = parse_settings(config(approval_expiry_hours=expiry_hours), environ={})
    assert settings.scheduler.approval_reminder_hours == reminder_hours


def test_reminder_hours_set_at_or_beyond_the_window_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_settings(config(approval_expiry_hours=24, approval_reminder_hours=24), environ={})
    [problem] = refused.value.problems
    assert "approval_reminder_hours (24) must be less than approval_expiry_hours (24)" in problem
    assert "0 for no reminders" in problem


def test_reminder_hours_zero_turns_reminders_off_whatever_the_window() -> None:
    settings = parse_settings(config(approval_expiry_hours=6, approval_reminder_hours=0), environ={})
    assert settings.scheduler.approval_reminder_hours == 0

"""Engine fixtures: fast settings and scripted steps (helpers in engineflow.py)."""

from __future__ import annotations

import pytest
from engineflow import ScriptedSteps, fast_settings

from core.config import Settings


@pytest.fixture
def settings() -> Settings:
    return fast_settings()


@pytest.fixture
def steps() -> ScriptedSteps:
    return ScriptedSteps()

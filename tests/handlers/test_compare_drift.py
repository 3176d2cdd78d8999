"""Drift check for the consistency check: every `Status` and `Conclusion` DTS documents for a compare task
(CompareTaskItem, SDK dts/v20211206 models) is decided by handlers.compare_data and core.cutover, and the sandbox
serves exactly those values. The values are written `value - 说明` there."""

from __future__ import annotations

import re

from tencentcloud.dts.v20211206 import models

from core import cutover
from core.config import CutoverSettings
from handlers.compare_data import FINISHED, RUNNING
from sandbox.tencentcloud.dts import compare
from storage.facts import Facts
from tests.support.workspace import bot_settings

VALUE = re.compile(r"([A-Za-z]+) - ")


def documented(field: str) -> list[str]:
    return VALUE.findall(models.CompareTaskItem.__dict__[field].__doc__ or "")


def test_every_documented_status_is_decided() -> None:
    statuses = documented("Status")
    assert statuses == list(compare.STATUSES)
    assert set(statuses) == RUNNING | FINISHED and not RUNNING & FINISHED


def test_every_documented_conclusion_has_a_gate_state() -> None:
    conclusions = documented("Conclusion")
    assert conclusions == list(compare.CONCLUSIONS)
    settings = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db").model_copy(
        update={"cutover": CutoverSettings()})
    states = {c: cutover.compare_state(Facts().merged({"compare_conclusion": c}), settings) for c in conclusions}
    assert states == {"same": "same", "different": "different", "skipAll": "skipped"}
    assert all((k, v) in cutover._WORDS for k, v in (("compare", s) for s in states.values()))

"""Drift check: every value DTS documents for an enum the bot reads has a decision in the step that reads it, and
a plain word on the request message (bot.journey).

The documented values come from the installed SDK's model docstrings (tencentcloud/dts/v20211206/models.py) and,
when tccli is importable or `DTSBOT_TCCLI_PYTHON` names a Python that has it, from tccli's api.json too (the
same text; a newer tccli shows a new value before the SDK is upgraded). A new DTS status can therefore never
slip through as "failed, create a new request".

How it was checked to fail: deleting the `"resuming"` row from `handlers.track_task.JOB_STATUS` made
`test_every_documented_value_has_a_decision[JobItem.Status-track_task.JOB_STATUS]` fail with
`AssertionError: JobItem.Status documents values without a decision in track_task.JOB_STATUS: ['resuming']`;
`test_a_removed_value_is_reported` keeps that property under test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.dts.v20211206 import models

from core.dts_words import DTS_STATUS_WORDS
from handlers.closeout_reads import TRADE
from handlers.isolate_task import DECISIONS as ISOLATE
from handlers.resume_task import DECISIONS as RESUME
from handlers.start_task import START
from handlers.stop_task import DECISIONS as STOP
from handlers.track_task import JOB_STATUS
from handlers.verify_task import CHECK, CHECK_RESULT, NO_FLAG, STEP_STATUS
from sandbox.tencentcloud.dts.lifecycle import JOB_STATUSES

VALUE = re.compile(r"([A-Za-z]+)\s*\(")
"""A documented value is written `value(说明)`."""

# (API object, field) -> the tables that must decide each of its values
READERS: dict[tuple[str, str], dict[str, Any]] = {
    ("JobItem", "Status"): {"track_task.JOB_STATUS": JOB_STATUS, "start_task.START": START,
                            "dts_words.DTS_STATUS_WORDS": DTS_STATUS_WORDS, "resume_task.DECISIONS": RESUME,
                            "stop_task.DECISIONS": STOP, "isolate_task.DECISIONS": ISOLATE},
    ("DescribeMigrationDetailResponse", "Status"): {"track_task.JOB_STATUS": JOB_STATUS,
                                                    "start_task.START": START,
                                                    "dts_words.DTS_STATUS_WORDS": DTS_STATUS_WORDS},
    ("CheckStep", "StepStatus"): {"verify_task.STEP_STATUS": STEP_STATUS},
    ("DetailCheckItem", "CheckResult"): {"verify_task.CHECK_RESULT": CHECK_RESULT},
    ("TradeInfo", "TradeStatus"): {"closeout_reads.TRADE": TRADE},
}


def documented(text: str) -> list[str]:
    """The values a field's description lists, in order."""
    return VALUE.findall(text or "")


def sdk_values(obj: str, field: str) -> list[str]:
    return documented(getattr(models, obj).__dict__[field].__doc__)


def _tccli_python() -> str | None:
    if find_spec("tccli") is not None:
        return sys.executable
    return os.environ.get("DTSBOT_TCCLI_PYTHON")


def tccli_values(obj: str, field: str) -> list[str]:
    """The values tccli's dts api.json documents for `obj.field` (read with the Python that has tccli)."""
    where = subprocess.run([_tccli_python(), "-c", "import os, tccli; print(os.path.dirname(tccli.__file__))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    api = json.loads((Path(where) / "services" / "dts" / "v20211206" / "api.json").read_text())
    member = next(m for m in api["objects"][obj]["members"] if m["name"] == field)
    return documented(member["document"])


def missing(values: list[str], table: dict[Any, Any]) -> list[str]:
    """Documented values that the decision table has no row for."""
    return [value for value in values if value not in table]


def check_rows() -> dict[tuple[str, str], None]:
    """Every documented check `Status` × (`CheckFlag` or no flag yet)."""
    statuses = sdk_values("DescribeMigrationCheckJobResponse", "Status")
    flags = [NO_FLAG, *sdk_values("DescribeMigrationCheckJobResponse", "CheckFlag")]
    return {(status, flag): None for status in statuses for flag in flags}


@pytest.mark.parametrize(("field", "table_name"), [
    (field, name) for field, tables in READERS.items() for name in tables
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else v)
def test_every_documented_value_has_a_decision(field: tuple[str, str], table_name: str) -> None:
    values = sdk_values(*field)
    assert len(values) >= 3, f"could not read the documented values of {'.'.join(field)}"
    gaps = missing(values, READERS[field][table_name])
    assert not gaps, f"{'.'.join(field)} documents values without a decision in {table_name}: {gaps}"


def test_check_status_times_check_flag_has_a_decision() -> None:
    assert set(sdk_values("DescribeMigrationCheckJobResponse", "CheckFlag")) == {"checkPass", "checkNotPass"}
    gaps = missing(list(check_rows()), CHECK)
    assert not gaps, f"check Status × CheckFlag without a decision in verify_task.CHECK: {gaps}"


def test_a_status_without_a_plain_word_is_reported() -> None:
    words = dict(DTS_STATUS_WORDS)
    del words["readyComplete"]
    assert missing(sdk_values("DescribeMigrationDetailResponse", "Status"), words) == ["readyComplete"]


def test_sandbox_serves_exactly_the_documented_job_statuses() -> None:
    assert list(JOB_STATUSES) == sdk_values("JobItem", "Status")


def test_a_removed_value_is_reported() -> None:
    table = dict(JOB_STATUS)
    del table["resuming"]
    assert missing(sdk_values("JobItem", "Status"), table) == ["resuming"]


@pytest.mark.skipif(_tccli_python() is None,
                    reason="needs tccli: install it or set DTSBOT_TCCLI_PYTHON to a Python that has it")
@pytest.mark.parametrize("field", [*READERS, ("DescribeMigrationCheckJobResponse", "Status"),
                                   ("DescribeMigrationCheckJobResponse", "CheckFlag")], ids=".".join)
def test_tccli_api_json_documents_the_same_values(field: tuple[str, str]) -> None:
    assert tccli_values(*field) == sdk_values(*field)

"""stop_task decides on every task status DTS documents (JobItem.Status and DescribeMigrationDetail's Status in
the SDK's model docs): StopMigrateJob, wait, or stopped — the access is revoked only after `stopped`."""

from __future__ import annotations

import inspect
import re

from tencentcloud.dts.v20211206 import models

from handlers.stop_task import DECISIONS, Decision


def documented_statuses(model: type) -> set[str]:
    doc = inspect.getsource(model.__init__)
    line = next(line for line in doc.splitlines() if ":param _Status:" in line)
    return set(re.findall(r"([A-Za-z]+)\(", line))


def test_every_documented_task_status_has_a_decision() -> None:
    documented = documented_statuses(models.JobItem) | documented_statuses(models.DescribeMigrationDetailResponse)
    assert {"running", "canceled", "manualPaused", "resumableErr"} <= documented  # the docs were read
    assert documented - set(DECISIONS) == set()


def test_only_a_task_that_cannot_run_lets_the_access_go() -> None:
    stopped = {status for status, decision in DECISIONS.items() if decision is Decision.STOPPED}
    assert stopped == {"created", "checkPass", "checkNotPass", "success", "failed", "canceled"}
    for status in ("running", "readyRun", "readyComplete", "manualPaused", "error", "unknown", "resumableErr"):
        assert DECISIONS[status] is Decision.STOP  # StopMigrateJob's documented states
    assert DECISIONS["stopping"] is Decision.WAIT and DECISIONS["completing"] is Decision.WAIT

"""Review of close-out, the sweep and the report (branch review-ops): each test shows a finding through the real
steps, the close-out runner and the DTS/CAM sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from test_closeout import DAY, bot, db  # noqa: F401 - fixtures

from core import report
from core.closeout_runner import request_undo
from core.requests import MigrationRequests
from storage import repository
from storage.db import session_scope

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def _report(db, rid):
    with session_scope(db) as session:
        return json.loads(report.render(report.build(session, rid), "json"))


def test_the_report_of_a_cancelled_request_validates(sandbox, bot, db, settings):
    rid = bot.add(migrate_type="fullAndIncrement")
    bot.until(rid, "ready_to_complete")
    MigrationRequests(db, settings).force_cancel(rid, "ops")
    bot.until(rid, "cancelled", "retained")
    jsonschema.validate(_report(db, rid), SCHEMA)


def test_the_report_of_a_failed_request_validates(sandbox, bot, db, settings):
    sandbox.faults.add("CreateMigrationService", "InternalError")
    rid = bot.add()
    for _ in range(200):
        bot.engine.tick()
        bot.clock.move(6)
        if bot.request(rid).state == "failed":
            break
    assert bot.request(rid).state == "failed"
    jsonschema.validate(_report(db, rid), SCHEMA)


def test_the_report_of_an_undone_closeout_validates(sandbox, bot, db):
    rid = bot.add()
    bot.until(rid, "succeeded", "retained")
    bot.clock.move(DAY)
    with session_scope(db) as session:
        request_undo(session, repository.get_request(session, rid), "U0TARGETOWNER", bot.clock())
    bot.until(rid, closeout="kept")
    jsonschema.validate(_report(db, rid), SCHEMA)

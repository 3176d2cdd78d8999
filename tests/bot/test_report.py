"""The migration report of a request the demo's way (through `dtsbot serve`'s wiring, the sandboxes, a full
migration to succeeded): `dtsbot report ID --format json` validates against docs/report.schema.json and holds every
section; Markdown and CSV say the same; `dtsbot audit --since` exports the audit log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from bot.cli import main
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage import outbox
from storage.db import session_scope
from tests.support.commands import inline
from tests.support.serving import WAIT, serving
from tests.support.workspace import serve_settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
SECTIONS = ("## Request and plan as approved", "## Approvals", "## Cloud changes", "## Verification",
            "## Lag and compare at cutover", "## Throttling and pauses", "## Phases", "## Close-out",
            "## Access revocation")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[str, str]:
    """(database URL, request id) of a full migration that succeeded and whose summary card was sent."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'report.db'}"
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, url)
        with serving(settings, slack, cloud) as story:
            rid = story.open(inline(migrate_type="full"))
            story.approve(rid)
            story.reaches(rid, "succeeded")
            eventually(lambda: "Migration record" in story.thread_text(rid), WAIT, "the summary card")

            def delivered() -> bool:
                with session_scope(story.runtime.db) as session:
                    return not outbox.unsent(session, rid)

            eventually(delivered, WAIT, "every notice delivered")
    return url, rid


def report(capsys, monkeypatch, url: str, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("DTSBOT_DATABASE_URL", url)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code = main([*argv, "--config", str(ROOT / "app.yaml")])
    return code, capsys.readouterr().out


def test_the_json_report_validates_against_its_schema_and_has_every_section(finished, capsys, monkeypatch):
    url, rid = finished
    code, out = report(capsys, monkeypatch, url, "report", rid, "--format", "json")
    assert code == 0
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["request"]["id"] == rid and document["request"]["state"] == "succeeded"
    assert document["plan"]["approved_revision"] == 1
    assert {a["side"] for a in document["approvals"]} == {"source", "target"}
    changes = {c["action"]: c for c in document["cloud_changes"]}
    for action in ("CreateRole", "AttachRolePolicy", "CreateMigrationService", "StartMigrateJob", "DeleteRole",
                   "IsolateMigrateJob"):
        assert changes[action]["cloud_request_id"] and changes[action]["account"], action
    assert changes["CreateRole"]["resource"].startswith("RoleName=dtsbot-")
    assert changes["IsolateMigrateJob"]["resource"] == f"JobId={document['request']['job_id']}"
    assert document["verification"]["result"] == "passed"
    cutover = document["cutover"]  # the facts the cutover records, read generically (`lag_*`, `compare_*`)
    assert "lag_seconds" in cutover["lag"] and all(key.startswith("lag_") for key in cutover["lag"])
    assert all(key.startswith("compare_") for key in cutover["compare"])
    assert document["control"] == []
    assert {"verifying", "running", "revoking_access", "closeout"} <= {p["phase"] for p in document["phases"]}
    assert document["closeout"]["phase"] == "retained" and document["closeout"]["retain_until"]
    assert document["access_revocation"]["revoked"] is True
    assert any(c["action"] == "DeleteRole" for c in document["access_revocation"]["calls"])
    assert "dtsbot-test" not in out and "secret" not in out.lower()


def test_markdown_and_csv_carry_the_same_record(finished, capsys, monkeypatch):
    url, rid = finished
    code, markdown = report(capsys, monkeypatch, url, "report", rid)
    assert code == 0 and markdown.startswith(f"# Migration report {rid}")
    at = 0
    for heading in SECTIONS:
        at = markdown.index(heading, at)
    assert "_none recorded_" in markdown[markdown.index("## Throttling and pauses"):]  # none in this version
    code, text = report(capsys, monkeypatch, url, "report", rid, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert code == 0 and {"request", "approval", "cloud_change", "phase", "revocation"} <= {r["section"] for r in rows}
    assert report(capsys, monkeypatch, url, "report", "mr-nothere")[0] == 1


def test_the_audit_log_exports_for_a_period(finished, capsys, monkeypatch):
    url, rid = finished
    code, out = report(capsys, monkeypatch, url, "audit", "--since", "2000-01-01", "--format", "json")
    entries = json.loads(out)
    assert code == 0 and any(e["request_id"] == rid and e["action"] == "CreateRole" for e in entries)
    code, out = report(capsys, monkeypatch, url, "audit", "--since", "2999-01-01", "--format", "csv")
    header = "id,at,request_id,actor,step,action,account,resource,outcome,cloud_request_id,error_code,detail"
    assert code == 0 and out.splitlines() == [header]

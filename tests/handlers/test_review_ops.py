"""Review of close-out, the sweep, the report and the alerts (branch review-ops): each test shows a finding through
the real steps, the close-out runner, the sweep, the alert monitor and the DTS/CAM sandbox."""

# ruff: noqa: F811 - the fixtures `bot` and `db` come from test_closeout

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import jsonschema
from sqlmodel import select
from stepflow import EXECUTOR_UIN, EXTERNAL_ID, SOURCE_UIN, TARGET_UIN
from test_closeout import DAY, FIELDS, bot, db  # noqa: F401 - fixtures

from bot.sweeper import sweep
from core import policies, report
from core.alerts import AlertMonitor
from core.closeout_runner import request_undo
from core.cloud import CloudClients
from core.config import AlertSettings
from core.engine import record_cloud_call
from core.requests import MigrationRequests
from sandbox.tencentcloud.dts.models import dts_backend
from storage import repository
from storage.db import session_scope
from storage.models import AuditEntry

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def _report(db, rid):
    with session_scope(db) as session:
        built = report.build(session, rid)
        for fmt in report.FORMATS:  # never the external ID in clear, in any format
            assert EXTERNAL_ID not in report.render(built, fmt)
        return json.loads(report.render(built, "json"))


def _tagged_task(clients: CloudClients, request_id: str) -> str:
    """A DTS task bought in the target account with the bot's tag for `request_id` (the sweep's input)."""
    [job_id] = clients.dts("analytics", "ap-guangzhou").call("CreateMigrationService", {
        "SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": "ap-guangzhou",
        "DstRegion": "ap-guangzhou", "InstanceClass": "small",
        "Tags": [{"TagKey": "dtsbot-request", "TagValue": request_id}]})["JobIds"]
    return job_id


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


def test_the_sweep_leaves_a_task_a_finished_request_never_made(sandbox, bot, db, settings):
    """A request this database knows that never bought a task (rejected, or cancelled before a task): a DTS task
    a person made and tagged with its id is not in the request's records, so the sweep leaves it (README: "for a
    request this database knows, only what its ownership records say it created")."""

    with session_scope(db) as session:
        request, _ = repository.create_request(session, FIELDS, "U0REQUESTER")
        repository.update_request(session, request, state="rejected")
        rid = request.id
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    theirs = _tagged_task(clients, rid)

    swept = sweep(db, clients, apply=True)
    [result] = [r for r in swept.results if r.verdict.found.name == theirs]
    assert not result.verdict.leftover, result.line()
    assert theirs in dts_backend(sandbox.world).jobs
    assert not sandbox.calls.of("IsolateMigrateJob")


def test_the_report_after_the_sweep_removed_a_failed_closeouts_task_validates(sandbox, bot, db, settings):
    """README: a failed close-out leaves the task to the sweep; the sweep's own audit row (`remove_task`, outcome
    `done`) is no cloud call, and the report still validates."""

    rid = bot.add()
    bot.until(rid, "succeeded", "retained")
    with session_scope(db) as session:
        repository.update_request(session, repository.get_request(session, rid), closeout="failed")
    swept = sweep(db, CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5), apply=True)
    assert [r.done for r in swept.results if r.verdict.found.request_id == rid and r.done]
    document = _report(db, rid)
    jsonschema.validate(document, SCHEMA)
    assert "DestroyMigrateJob" in {c["action"] for c in document["cloud_changes"]}


def test_the_sweep_leaves_a_task_whose_undo_failed(sandbox, bot, db, settings):
    """A target approver pressed *Undo close-out*; RecoverMigrateJob kept failing and close-out failed. The
    person asked to keep the task: the sweep must not isolate and destroy it behind their back."""

    rid = bot.add()
    request = bot.until(rid, "succeeded", "retained")
    sandbox.faults.add("RecoverMigrateJob", "InternalError")
    with session_scope(db) as session:
        request_undo(session, repository.get_request(session, rid), "U0TARGETOWNER", bot.clock())
    for _ in range(500):
        bot.closeout.tick()
        bot.clock.move(600)
        if bot.request(rid).closeout == "failed":
            break
    assert bot.request(rid).closeout == "failed"
    sandbox.faults.clear()

    swept = sweep(db, CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5), apply=True)
    [result] = [r for r in swept.results if r.verdict.found.name == request.job_id]
    assert not result.verdict.leftover, result.line()
    assert request.job_id in dts_backend(sandbox.world).jobs and not sandbox.calls.of("DestroyMigrateJob")


def test_the_sweep_leaves_a_grant_an_unfinished_request_still_needs(sandbox, bot, db, settings):
    """Two requests of one source role, both run by a sub-account: the first made the grant policy (its tag) and
    ended; the engine kept the grant for the second (core.role_sharing.grant_to_release). The sweep must keep it too,
    or the running migration's sub-account loses sts:AssumeRole on the role."""

    first = bot.add(executor=EXECUTOR_UIN, migrate_type="fullAndIncrement")
    bot.until(first, "ready_to_complete")
    second = bot.add(executor=EXECUTOR_UIN, migrate_type="fullAndIncrement")
    bot.until(second, "ready_to_complete")
    MigrationRequests(db, settings).force_cancel(first, "ops")
    bot.until(first, "cancelled")
    assert bot.request(second).state == "ready_to_complete"
    grant = policies.grant_policy_name(SOURCE_UIN, "DTS-role")
    target = sandbox.world.cam(TARGET_UIN)
    assert any(p.name == grant for p in target.policies.values())

    swept = sweep(db, CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5), apply=True)
    [result] = [r for r in swept.results if r.verdict.found.name == grant]
    assert not result.verdict.leftover, result.line()
    assert any(p.name == grant for p in target.policies.values())


def test_two_replicas_do_not_turn_one_lag_episode_into_two(db, settings):
    """Both replicas watch every task. Replica a alerts after the lag held `lag_minutes`, then sees it drop and
    closes the episode; replica b, which has not listed the task while the lag was low, lists it high a second
    later: the lag has been high for one second since the episode ended, not `lag_minutes`, so no second alert."""



    alerting = settings.model_copy(update={"alerts": AlertSettings(lag_seconds=60, lag_minutes=1)})
    with session_scope(db) as session:
        request, _ = repository.create_request(session, FIELDS, "U0REQUESTER")
        repository.update_request(session, request, state="running", job_id="dts-lagging1")
        rid = request.id
    now = [time.time()]
    a, b = AlertMonitor(db, alerting, clock=lambda: now[0]), AlertMonitor(db, alerting, clock=lambda: now[0])
    row = SimpleNamespace(id=rid, job_id="dts-lagging1", migrate_type="fullAndIncrement")

    def listed(monitor, lag, at):
        now[0] = start + at
        step = {"StepInfo": [{"Percent": 100}, {"Percent": 0}], "SecondsBehindMaster": lag}
        monitor.observe([row], {"dts-lagging1": {"Status": "running", "StepInfo": step}})

    start = now[0]
    listed(a, 300, 0)
    listed(b, 300, 1)
    listed(a, 300, 61)  # held a minute: the alert
    listed(b, 300, 62)
    listed(a, 5, 63)  # back to normal
    listed(b, 300, 64)  # high again, for one second
    with session_scope(db) as session:
        opened = session.exec(select(AuditEntry).where(AuditEntry.request_id == rid, AuditEntry.step == "alert",
                                                       AuditEntry.outcome == "opened")).all()
    assert len(opened) == 1, [e.detail for e in opened]


def test_the_sweep_leaves_a_role_a_person_made_again_with_a_finished_requests_tag(sandbox, bot, db, settings):
    """The request made role `DTS-role`, deleted it when it ended (its record released). A person then makes a role
    of the same name carrying the request's tag value (copied from a template): the bot's role is gone, this one
    is not the bot's, and the sweep must not delete it."""

    rid = bot.add()
    bot.until(rid, "succeeded")
    source = sandbox.world.cam(SOURCE_UIN)
    assert "DTS-role" not in source.roles
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    clients.cam("shop-prod").call("CreateRole", {
        "RoleName": "DTS-role", "PolicyDocument": json.dumps(policies.trust_policy(TARGET_UIN, None)),
        "Tags": policies.owner_tags(rid)})

    swept = sweep(db, clients, apply=True)
    [result] = [r for r in swept.results if r.verdict.found.name == "DTS-role"]
    assert not result.verdict.leftover, result.line()
    assert "DTS-role" in source.roles


def test_the_report_of_a_request_cancelled_before_approval_validates(sandbox, db, settings):
    with session_scope(db) as session:
        request, _ = repository.create_request(session, FIELDS, "U0REQUESTER")
        rid = request.id
    requests = MigrationRequests(db, settings)
    assert not requests.cancel(rid, "U0STRANGER").ok  # a refusal is audited with its action
    assert requests.cancel(rid, "U0REQUESTER").ok
    document = _report(db, rid)
    jsonschema.validate(document, SCHEMA)
    assert document["request"]["state"] == "cancelled" and document["cloud_changes"] == []


def test_the_sweep_still_removes_a_task_bought_when_its_answer_was_lost(sandbox, db, settings):
    """The other side of the job-id rule: a cancelled request whose CreateMigrationService answer was lost (audited,
    no job id recorded) left a task with its tag; that one is the bot's and the sweep removes it."""
    with session_scope(db) as session:
        request, _ = repository.create_request(session, FIELDS, "U0REQUESTER")
        repository.update_request(session, request, state="cancelled", closeout="no_task")
        rid = request.id
        repository.audit(session, "creating_task", "error", rid, action="CreateMigrationService",
                         account="analytics", error_code="InternalError")
    clients = CloudClients(settings, record_cloud_call, backoff_base=0.01, timeout=5)
    bought = _tagged_task(clients, rid)
    swept = sweep(db, clients, apply=True)
    [result] = [r for r in swept.results if r.verdict.found.name == bought]
    assert result.verdict.leftover and bought not in dts_backend(sandbox.world).jobs, result.line()

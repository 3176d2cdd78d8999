"""The operator's commands, in process: `dtsbot db upgrade|current`, `dtsbot requests list|show|cancel --force`,
and the CLI's rough edges (a directory as --config, app.yaml as a sandbox world) as one clear line each."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from core.config import load_settings
from core.requests import MigrationRequests
from core.steps import Owned
from storage import ownership, repository
from storage.db import make_engine, session_scope
from storage.models import AuditEntry, MigrationRequest, utcnow
from tests.support.commands import DEFAULT_FIELDS
from tests.support.workspace import REQUESTER

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
FIELDS = {**DEFAULT_FIELDS, "role_name": None, "external_id": None, "executor": "root",
          "migrate_type": "fullAndIncrement", "objects": "all"}  # validated, as MigrationRequests takes them


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'operator.db'}"
    monkeypatch.setenv("DTSBOT_DATABASE_URL", url)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(APP_YAML)])
    out, err = capsys.readouterr()
    return code, out, err


def test_db_current_and_upgrade(database, capsys):
    from storage.db import head_revision

    head = head_revision()
    behind = f"schema at nothing; this version needs {head} (run `dtsbot db upgrade`)\n"
    assert run(capsys, "db", "current")[:2] == (1, behind)  # a deploy script can test the exit status
    assert run(capsys, "db", "upgrade")[:2] == (0, f"schema upgraded from nothing to {head}\n")
    assert run(capsys, "db", "current")[:2] == (0, f"schema at {head}; this version needs {head}\n")


def opened(database: str) -> tuple[str, MigrationRequests]:
    assert main(["db", "upgrade", "--config", str(APP_YAML)]) == 0
    requests = MigrationRequests(make_engine(database), load_settings(APP_YAML, environ={}))
    decision = requests.open(FIELDS, REQUESTER)
    assert decision.ok and decision.request is not None, decision.message
    return decision.request.id, requests


def test_requests_list_and_show_never_print_a_secret(database, capsys):
    request_id, requests = opened(database)
    capsys.readouterr()
    code, out, _err = run(capsys, "requests", "list")
    assert code == 0 and out.startswith(request_id) and "requested" in out and "cdb-src00001" in out
    code, out, _err = run(capsys, "requests", "show", request_id)
    external_id = requests.get(request_id).external_id
    assert code == 0 and "external_id: …" in out and external_id not in out
    assert "audit:" in out and "request/open ok" in out
    assert "next_run_at:" in out and "cloud resources (what this request created, attached or uses):\n  none" in out
    with session_scope(requests.db) as session:
        ownership.record(session, request_id, [Owned("created", "role", "100000000001", "dtsbot-x")], [])
    out = run(capsys, "requests", "show", request_id)[1]
    assert "  created role dtsbot-x in 100000000001\n" in out
    assert run(capsys, "requests", "show", "mr-nosuch")[:2] == (1, "no request mr-nosuch\n")


def test_cancel_needs_force_and_goes_through_the_workflow_as_the_operator(database, capsys):
    request_id, requests = opened(database)
    with session_scope(requests.db) as session:  # a task that may run: the cancel must stop it first
        request = repository.get_request(session, request_id)
        repository.update_request(session, request, state="running", job_id="dts-abcdefgh")
    capsys.readouterr()
    code, _out, err = run(capsys, "requests", "cancel", request_id)
    assert code == 2 and "add --force" in err and requests.get(request_id).state == "running"
    code, out, _err = run(capsys, "requests", "cancel", request_id, "--force", "--as", "alice")
    assert code == 0 and "stopping the DTS task" in out
    assert requests.get(request_id).state == "stopping_task"  # not cancelled around the task: stopped first
    with session_scope(requests.db) as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.request_id == request_id,
                                                        AuditEntry.action == "cancel")).all()
        assert (entry.actor, entry.outcome) == ("operator:alice", "ok")
        assert session.get(MigrationRequest, request_id).state == "stopping_task"


def test_an_operator_cancel_of_a_running_task_is_due_at_once_not_at_the_watchers_fallback(database, capsys):
    """A running request waits on the DTS watcher, its own next run minutes away (the watcher's fallback, 300 s).
    The CLI has no scheduler to kick, so the cancel itself must make the stop due: the replicas' next tick
    (0.7 s) sends StopMigrateJob, as the CLI says, not the old next_run_at minutes later."""
    request_id, requests = opened(database)
    with session_scope(requests.db) as session:
        request = repository.get_request(session, request_id)
        repository.update_request(session, request, state="running", job_id="dts-abcdefgh",
                                  next_run_at=utcnow() + timedelta(seconds=300))
    capsys.readouterr()
    assert run(capsys, "requests", "cancel", request_id, "--force")[0] == 0
    with session_scope(requests.db) as session:
        [claimed] = repository.claim_due(session, "replica-1", 60, ["stopping_task"])
        assert claimed.id == request_id


def test_a_directory_as_config_is_one_line(tmp_path, capsys):
    assert main(["check", "--config", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert out.splitlines() == [f"✗ {tmp_path}: invalid configuration",
                                f"  {tmp_path}: is a directory; give the path of app.yaml"]
    assert main(["serve", "--config", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (f"dtsbot: invalid configuration:\n  - {tmp_path}: is a directory; "
                                               "give the path of app.yaml")


def test_app_yaml_as_a_sandbox_world_is_one_line(capsys):
    assert main(["sandbox", "tencentcloud", "--port", "0", "--world", str(APP_YAML)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dtsbot sandbox: --world {APP_YAML}: this looks like app.yaml, not a sandbox world file")
    assert "Traceback" not in err and err.count("\n") == 1

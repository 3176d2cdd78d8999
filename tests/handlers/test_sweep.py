"""`dtsbot sweep`: a migration's role, grant and DTS task (all tagged) outlive the database that knew them; the
sweep of a fresh database finds exactly those, reports them without touching anything, and with `--apply` removes
exactly those. Untagged look-alikes (a role, a policy, a DTS task a person made) survive, and so does what a
request this database knows still uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stepflow import EXECUTOR_UIN, SOURCE_UIN, TARGET_UIN, run_flow

from bot.cli import main
from core import policies
from sandbox.tencentcloud.dts.models import dts_backend
from storage.db import make_engine, migrate

APP_YAML = Path(__file__).resolve().parents[2] / "app.yaml"
GRANT = policies.grant_policy_name(SOURCE_UIN, "DTS-role")


@pytest.fixture
def sweep(sandbox, monkeypatch, tmp_path, capsys):
    """`dtsbot sweep [--apply]` on a fresh, migrated database (the one that knew the requests is lost)."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(make_engine(url))
    monkeypatch.setenv("DTSBOT_DATABASE_URL", url)
    monkeypatch.setenv("TENCENTCLOUD_ENDPOINT", sandbox.endpoint)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> tuple[int, str]:
        code = main(["sweep", *argv, "--config", str(APP_YAML)])
        return code, capsys.readouterr().out

    return run


def test_the_sweep_removes_exactly_the_tagged_leftovers_of_a_lost_database(sandbox, clients, make_request, sweep):
    request = make_request(executor=EXECUTOR_UIN, migrate_type="full")
    run_flow(request, clients, until="revoking_access")  # role, grant and task made; the task finished
    world = sandbox.world
    source, target, dts = world.cam(SOURCE_UIN), world.cam(TARGET_UIN), dts_backend(world)
    job_id = request.job_id
    assert "DTS-role" in source.roles and any(p.name == GRANT for p in target.policies.values())

    # what a person made, looking like the bot's work but untagged
    lookalike = json.dumps(policies.trust_policy(TARGET_UIN, None))
    clients.cam("shop-prod").call("CreateRole", {"RoleName": "DTS-role-by-hand", "PolicyDocument": lookalike})
    clients.cam("analytics").call("CreatePolicy", {"PolicyName": GRANT + "-by-hand", "PolicyDocument": json.dumps(
        policies.subaccount_grant(SOURCE_UIN, "DTS-role"))})
    [untagged_job] = clients.dts("analytics", "ap-guangzhou").call("CreateMigrationService", {
        "SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": "ap-guangzhou",
        "DstRegion": "ap-guangzhou", "InstanceClass": "small"})["JobIds"]

    code, report = sweep()
    assert code == 0
    lines = report.splitlines()
    assert lines[-1] == "3 tagged, 3 leftover (add --apply to remove them)"
    for name in ("DTS-role", GRANT, job_id):
        assert any(f" {name} " in line and "unknown to this database: leftover" in line for line in lines), name
    assert "by-hand" not in report and untagged_job not in report
    assert not [c for c in sandbox.calls.records if c.action in ("DeleteRole", "DeletePolicy", "IsolateMigrateJob")]

    code, applied = sweep("--apply")
    assert code == 0, applied
    assert "DTS-role" not in source.roles and "DTS-role-by-hand" in source.roles
    assert {p.name for p in target.policies.values() if not p.preset} == {GRANT + "-by-hand"}
    assert job_id not in dts.jobs and untagged_job in dts.jobs
    assert [c.params.get("RoleName") for c in sandbox.calls.of("DeleteRole")] == ["DTS-role"]
    assert [c.params["JobId"] for c in sandbox.calls.of("DestroyMigrateJob")] == [job_id]

    code, again = sweep("--apply")  # nothing left: nothing more removed
    assert code == 0 and again.splitlines() == ["0 tagged, 0 leftover"]

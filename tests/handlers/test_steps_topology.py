"""Topology-aware configuration against the sandbox through the real SDK: the preflight reads each instance's
topology (the source through the role, the target with its own keys), the task is configured with the
documented NodeType and ExtraAttr, and a topology that cannot be read or decided is a diagnosis before anything
is bought."""

from __future__ import annotations

from typing import Any

import pytest
from stepflow import SOURCE_UIN, run_flow

from core.cloud import CloudCall, CloudClients
from core.config import DatabaseLogin, Settings
from core.steps import Outcome
from handlers import authorize_source, preflight
from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.tencentcloud.server import TencentCloudSandbox
from storage.models import MigrationRequest

INSTANCES = ("cmgo-src00001", "cmgo-dst00001", "cmgo-src00002", "cmgo-dst00002", "crs-src00001", "crs-dst00001",
             "crs-src00002", "crs-dst00002")
MONGO_AUTH = [{"Key": "AuthDatabase", "Value": "admin"}, {"Key": "AuthFlag", "Value": "1"},
              {"Key": "AuthMechanism", "Value": "SCRAM-SHA-1"}]


@pytest.fixture
def clients(settings: Settings, calls: list[CloudCall]) -> CloudClients:
    """The shipped app.yaml's clients, with database logins for the MongoDB and Redis pairs too."""
    logins = {i: DatabaseLogin(user="dts", password="sandbox-db-password") for i in INSTANCES}
    with_logins = settings.model_copy(update={"databases": {**settings.databases, **logins}})
    return CloudClients(with_logins, calls.append, backoff_base=0.01, timeout=5)


def pair(make_request: Any, engine: str, serial: int, **fields: Any) -> MigrationRequest:
    prefix = {"mongodb": "cmgo", "redis": "crs"}[engine]
    return make_request(db_type=engine, source_instance=f"{prefix}-src{serial:05d}",
                        target_instance=f"{prefix}-dst{serial:05d}", **fields)


def configured(sandbox: TencentCloudSandbox) -> dict[str, Any]:
    """The parameters of the last ModifyMigrationJob the sandbox recorded (secrets redacted)."""
    return sandbox.calls.of("ModifyMigrationJob")[-1].params


def test_a_sharded_mongodb_is_configured_as_a_cluster_with_its_authentication(sandbox, clients, make_request):
    request = pair(make_request, "mongodb", 2)
    results = run_flow(request, clients, until="running")
    assert request.state == "running", [r.diagnosis for r in results]
    notice = next(r.notice for r in results if r.notice and r.notice.startswith("Preflight passed"))
    assert ("Topology: source sharded cluster (ClusterType 1) → NodeType `cluster`; "
            "target sharded cluster (ClusterType 1) → NodeType `cluster`.") in notice
    sent = configured(sandbox)
    for side in ("SrcInfo", "DstInfo"):
        assert sent[side]["NodeType"] == "cluster" and sent[side]["ExtraAttr"] == MONGO_AUTH
    assert "ExtraAttr" not in sent["MigrateOption"]
    assert request.facts.source_topology == {"node_type": "cluster", "read": "ClusterType 1",
                                             "label": "sharded cluster"}
    reads = sandbox.calls.of("DescribeDBInstances")
    assert [(r.params["InstanceIds"], r.caller_uin == SOURCE_UIN) for r in reads] == [
        (["cmgo-src00002"], False), (["cmgo-dst00002"], False)]
    assert ":dtsbot-r0001" in reads[0].caller_uin  # the source as the role's session, the target as its root
    assert "QcloudMongoDBReadOnlyAccess" in sandbox.world.role_policy_names(SOURCE_UIN, "DTS-role")  # allows it
    assert reads[1].caller_uin == "100000000002"


def test_a_redis_cluster_is_configured_through_its_proxy_with_the_write_mode(sandbox, clients, make_request):
    request = pair(make_request, "redis", 2, write_mode="overwrite")
    results = run_flow(request, clients, until="running")
    assert request.state == "running", [r.diagnosis for r in results]
    sent = configured(sandbox)
    assert (sent["SrcInfo"]["NodeType"], sent["DstInfo"]["NodeType"]) == ("cluster-proxy", "cluster-proxy")
    assert "ExtraAttr" not in sent["SrcInfo"]
    assert sent["MigrateOption"]["ExtraAttr"] == [{"Key": "DstWriteMode", "Value": "overwrite"}]


def test_a_mysql_task_reads_nothing_and_stays_simple(sandbox, clients, request_):
    run_flow(request_, clients, until="running")
    sent = configured(sandbox)
    assert (sent["SrcInfo"]["NodeType"], sent["DstInfo"]["NodeType"]) == ("simple", "simple")
    assert not sandbox.calls.of("DescribeDBInstances") and not sandbox.calls.of("DescribeInstances")


@pytest.mark.parametrize("redis_type, what, why", [
    (200, "the instance is Memcached 1.6 (Type 200)", "documents TencentDB for Redis 2.8 to 7.0 only"),
    (23, "Redis reports Type `23`", "does not document this instance type"),
])
def test_an_undecidable_topology_fails_the_preflight_before_anything_is_bought(
        sandbox, clients, make_request, redis_type, what, why):
    sandbox.world.instance(SOURCE_UIN, "ap-guangzhou", "crs-src00001").redis_type = redis_type
    request = pair(make_request, "redis", 1)
    results = run_flow(request, clients, until="running")
    assert request.state == "failed"
    d = results[-1].diagnosis
    assert d.code == "TopologyUndecided"
    assert d.what == f"preflight: the topology of the source `crs-src00001` cannot be decided: {what}"
    assert why in d.why and "never guesses" in d.why and "cancel this request" in d.fix
    assert not sandbox.calls.of("CreateMigrationService")


def refuse(code: str, instance: str) -> Any:
    def hook(params: dict[str, Any]) -> None:
        if instance in (params.get("InstanceIds") or ()):
            raise TencentCloudError(code, "you are not authorized to perform operation (mongodb:DescribeDBInstances)")
    return hook


def test_a_role_without_the_engine_read_only_policy_is_told_which_to_attach(sandbox, clients, make_request):
    request = pair(make_request, "mongodb", 1)
    assert authorize_source(request, clients).outcome is Outcome.DONE
    sandbox.hooks.before("DescribeDBInstances", refuse("AuthFailure.UnauthorizedOperation", "cmgo-src00001"), count=None)
    d = preflight(request, clients).diagnosis
    assert d.code == "AuthFailure.UnauthorizedOperation" and d.request_id
    assert d.what.startswith("preflight: could not read the topology of the source `cmgo-src00001` in shop-prod")
    assert "role `DTS-role` may not call `mongodb:DescribeDBInstances`" in d.why
    assert "Attach `QcloudMongoDBReadOnlyAccess` to the role in shop-prod" in d.fix


def test_target_keys_that_may_not_describe_are_told_what_to_allow(sandbox, clients, make_request):
    request = pair(make_request, "mongodb", 1)
    authorize_source(request, clients)
    sandbox.hooks.before("DescribeDBInstances", refuse("UnauthorizedOperation.NoAccess", "cmgo-dst00001"), count=None)
    d = preflight(request, clients).diagnosis
    assert "The keys of analytics in app.yaml may not call `mongodb:DescribeDBInstances`" in d.why
    assert "Allow `mongodb:DescribeDBInstances`" in d.fix


def test_a_topology_changed_after_the_preflight_fails_the_check_and_a_reverify_configures_again(
        sandbox, clients, make_request):
    request = pair(make_request, "mongodb", 1)
    target = sandbox.world.instance("100000000002", "ap-guangzhou", "cmgo-dst00001")
    sandbox.hooks.before("ModifyMigrationJob", lambda _params: setattr(target, "topology", "sharded"))
    results = run_flow(request, clients, until="running")
    assert request.state == "verify_failed"
    assert "NodeType is replicaset (expected cluster)" in results[-1].notice

    results = run_flow(request, clients, until="running")  # the person's Re-verify
    assert request.state == "running", [r.diagnosis for r in results]
    assert ("The topology changed since the preflight; the task is configured again with: source replica set "
            "(ClusterType 0) → NodeType `replicaset`; target sharded cluster (ClusterType 1) → NodeType `cluster`."
            ) in results[0].notice
    assert configured(sandbox)["DstInfo"]["NodeType"] == "cluster"
    assert request.facts.target_topology["node_type"] == "cluster"

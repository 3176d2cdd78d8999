"""Topology-aware configuration through `dtsbot serve` (the Bolt app over signed HTTP, the scheduler with the real
cloud steps, the real SDK against the sandbox): a MongoDB replica set, a sharded MongoDB, a Redis cluster and a
MySQL instance each reach *Running* with the NodeType and ExtraAttr DTS documents for them, and an instance whose
topology changes after the preflight fails DTS's check as Tencent Cloud's would, until a person's *Re-verify*
makes the bot read it again and configure the task with the new one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from tests.support.commands import inline
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import CHANNEL, REQUESTER, TARGET_UIN, serve_settings

PAIRS = {  # what each request migrates, and the NodeType DTS documents for it
    "mongodb replica set": (("mongodb", "cmgo-src00001", "cmgo-dst00001"), "replicaset"),
    "sharded mongodb": (("mongodb", "cmgo-src00002", "cmgo-dst00002"), "cluster"),
    "redis cluster": (("redis", "crs-src00002", "crs-dst00002"), "cluster-proxy"),
    "mysql": (("mysql", "cdb-src00001", "cdb-dst00001"), "simple"),
}
MONGO_AUTH = [{"Key": "AuthDatabase", "Value": "admin"}, {"Key": "AuthFlag", "Value": "1"},
              {"Key": "AuthMechanism", "Value": "SCRAM-SHA-1"}]
RUNNING = ("running", "ready_to_complete")


@pytest.fixture
def story(tmp_path) -> Iterator[Serving]:
    """`dtsbot serve` on the sandboxes, with logins for every pair above and the standard Redis pair."""
    instances = [i for (_engine, *pair), _node_type in PAIRS.values() for i in pair] + ["crs-src00001", "crs-dst00001"]
    logins = {instance: {"user": "dts", "password": f"sandbox-db-password-{instance}"} for instance in instances}
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'topology.db'}", databases=logins)
        with serving(settings, slack, cloud) as running:
            yield running
        assert not cloud.output_drift, "sandbox answers outside the API reference's output schema"


def open_pair(story: Serving, engine: str, source: str, target: str) -> str:
    return story.open(inline(db_type=engine, source_instance=source, target_instance=target))


def modified(story: Serving, source: str) -> list[dict[str, Any]]:
    """The ModifyMigrationJob parameters the sandbox recorded for the task reading `source`, in order."""
    return [c.params for c in story.cloud.calls.of("ModifyMigrationJob")
            if c.params["SrcInfo"]["Info"][0]["InstanceId"] == source and c.outcome == "ok"]


@pytest.mark.slow
def test_each_topology_reaches_running_with_its_documented_node_type_and_extra_attr(story: Serving) -> None:
    requests = {name: open_pair(story, *pair) for name, (pair, _node_type) in PAIRS.items()}
    for rid in requests.values():
        story.approve(rid)
    for rid in requests.values():
        story.reaches(rid, *RUNNING)

    for name, ((engine, source, _target), node_type) in PAIRS.items():
        (sent,) = modified(story, source)
        assert (sent["SrcInfo"]["NodeType"], sent["DstInfo"]["NodeType"]) == (node_type, node_type), name
        extra = MONGO_AUTH if engine == "mongodb" else None
        assert (sent["SrcInfo"].get("ExtraAttr"), sent["DstInfo"].get("ExtraAttr")) == (extra, extra), name
        write_mode = [{"Key": "DstWriteMode", "Value": "normal"}] if engine == "redis" else None
        assert sent["MigrateOption"].get("ExtraAttr") == write_mode, name
    said = "Topology: source sharded cluster (ClusterType 1) → NodeType `cluster`"
    eventually(lambda: said in story.thread_text(requests["sharded mongodb"]), timeout=WAIT, what="the topology")
    plan = str(story.message(requests["redis cluster"])["blocks"])
    assert "Redis write mode `normal`: the target must be empty, else verification fails" in plan


@pytest.mark.slow
def test_a_topology_changed_after_the_preflight_fails_verification_until_reverified(story: Serving) -> None:
    target = story.cloud.world.instance(TARGET_UIN, "ap-guangzhou", "crs-dst00001")
    story.cloud.hooks.before("ModifyMigrationJob", lambda _params: setattr(target, "topology", "cluster"))
    rid = open_pair(story, "redis", "crs-src00001", "crs-dst00001")
    story.approve(rid)
    story.reaches(rid, "verify_failed")
    (first,) = modified(story, "crs-src00001")
    assert first["DstInfo"]["NodeType"] == "simple"  # the standard architecture the preflight read
    notice = eventually(lambda: next((m for m in story.slack.thread(CHANNEL, story.message(rid)["ts"])
                                      if "Re-verify" in str(m.get("blocks"))), None), timeout=WAIT)
    assert "节点类型检查" in notice["text"] and "NodeType is simple (expected cluster-proxy)" in notice["text"]
    assert not story.cloud.calls.of("StartMigrateJob")

    assert story.driver.click(REQUESTER, {**notice, "channel": CHANNEL}, "reverify").status == 200
    story.reaches(rid, *RUNNING)
    assert modified(story, "crs-src00001")[-1]["DstInfo"]["NodeType"] == "cluster-proxy"
    eventually(lambda: "The topology changed since the preflight" in story.thread_text(rid), timeout=WAIT,
               what="the notice of the new configuration")

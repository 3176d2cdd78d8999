"""MongoDB and Redis in the Tencent Cloud sandbox, and DTS's check of an endpoint's topology, through the real SDK.

MongoDB's DescribeDBInstances and Redis' DescribeInstances describe the world's instances as the API reference
does (ClusterType; Type and ProductType), to a root account in its own account, and to a role session or a
sub-account only as far as their CAM policies allow (the read-only presets). DTS's check fails when a configured
NodeType is not the instance's, when a MongoDB endpoint lacks its authentication database, and when a Redis
target holds data under DstWriteMode normal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.dts.v20211206 import dts_client
from tencentcloud.mongodb.v20190725 import models as mongodb_models
from tencentcloud.mongodb.v20190725.mongodb_client import MongodbClient
from tencentcloud.redis.v20180412 import models as redis_models
from tencentcloud.redis.v20180412.redis_client import RedisClient
from test_dts import (
    REGION,
    ROLE,
    TARGET_UIN,
    assume_role,
    authorize_source,
    buy,
    call,
    dts_call,
    error_of,
    source_node,
    wait_check,
)

from sandbox.tencentcloud.world import Instance, World, default_world

STILL = 1e-3
MONGO_AUTH = [{"Key": "AuthDatabase", "Value": "admin"}, {"Key": "AuthFlag", "Value": "1"}]


@pytest.fixture
def world() -> World:
    """The default world on a still clock, with a second target instance of each topology in one account."""
    world = default_world(speed=STILL)
    world.account(TARGET_UIN).instances += [
        Instance("cmgo-dst00003", "mongodb", REGION, "10.0.2.40", 27017, topology="sharded"),
        Instance("crs-dst00003", "redis", REGION, "10.0.2.41", 6379, topology="cluster", has_data=True),
    ]
    return world


def mongodb_instances(client: MongodbClient, *ids: str) -> list[Any]:
    return call(client, "DescribeDBInstances", mongodb_models.DescribeDBInstancesRequest,
                {"InstanceIds": list(ids)} if ids else {}).InstanceDetails


def redis_instances(client: RedisClient, *ids: str) -> list[Any]:
    return call(client, "DescribeInstances", redis_models.DescribeInstancesRequest,
                {"InstanceIds": list(ids)} if ids else {}).InstanceSet


def as_role(tc_client: Callable[..., Any], client_cls: type, policies: list[str]) -> Any:
    """`client_cls` signed with the source role's temporary credentials (the role carries `policies`)."""
    authorize_source(tc_client, policies)
    creds = assume_role(tc_client)
    return tc_client(client_cls, (creds.TmpSecretId, creds.TmpSecretKey), token=creds.Token)


def test_mongodb_describes_each_instance_with_its_cluster_type(tc_client: Callable[..., Any]) -> None:
    found = mongodb_instances(tc_client(MongodbClient, "source"))
    assert [(i.InstanceId, i.ClusterType) for i in found] == [("cmgo-src00001", 0), ("cmgo-src00002", 1)]
    (sharded,) = mongodb_instances(tc_client(MongodbClient, "source"), "cmgo-src00002")
    assert sharded.MongosNodeNum == 3 and sharded.Status == 2


def test_redis_describes_each_instance_with_its_type_and_product_type(tc_client: Callable[..., Any]) -> None:
    found = {i.InstanceId: i for i in redis_instances(tc_client(RedisClient, "source"))}
    assert (found["crs-src00001"].ProductType, found["crs-src00001"].Type) == ("standalone", 8)
    assert (found["crs-src00002"].ProductType, found["crs-src00002"].Type) == ("cluster", 9)
    assert found["tendis-src00001"].ProductType == "standalone" and found["tendis-src00001"].Type is None


def test_a_role_reads_the_source_instances_only_with_the_engine_read_only_policy(
        tc_client: Callable[..., Any]) -> None:
    redis_only = as_role(tc_client, MongodbClient, ["QcloudDTSReadOnlyAccess", "QcloudRedisReadOnlyAccess"])
    denied = error_of(lambda: mongodb_instances(redis_only, "cmgo-src00001"))
    assert denied.code == "AuthFailure.UnauthorizedOperation"
    assert "(mongodb:DescribeDBInstances)" in denied.message

    cam = tc_client(cam_client.CamClient, "source")
    call(cam, "AttachRolePolicy", cam_models.AttachRolePolicyRequest,
         {"PolicyName": "QcloudMongoDBReadOnlyAccess", "AttachRoleName": ROLE})
    (found,) = mongodb_instances(redis_only, "cmgo-src00002")  # the role's account's instance, not the caller's
    assert found.ClusterType == 1


def test_a_sub_account_without_a_policy_may_not_read(tc_client: Callable[..., Any]) -> None:
    denied = error_of(lambda: redis_instances(tc_client(RedisClient, "target-sub")))
    assert denied.code == "AuthFailure.UnauthorizedOperation" and "(redis:DescribeInstances)" in denied.message


# -- DTS's check of the topology ------------------------------------------------------------------------
def configure(client: dts_client.DtsClient, job_id: str, engine: str, src: str, dst: str, node_types: tuple[str, str],
              extra: list[dict[str, str]] | None = None, option: list[dict[str, str]] | None = None) -> None:
    migrate_option: dict[str, Any] = {"MigrateType": "fullAndIncrement", "DatabaseTable": {"ObjectMode": "all"}}
    if option is not None:
        migrate_option["ExtraAttr"] = option
    sides = []
    for instance, node_type in zip((src, dst), node_types, strict=True):
        side: dict[str, Any] = {"Region": REGION, "AccessType": "cdb", "DatabaseType": engine, "NodeType": node_type,
                                "Info": [source_node(instance, AccountMode="self")]}
        if extra is not None:
            side["ExtraAttr"] = extra
        sides.append(side)
    dts_call(client, "ModifyMigrationJob", JobId=job_id, RunMode="immediate", MigrateOption=migrate_option,
             SrcInfo=sides[0], DstInfo=sides[1])


def checked(world: World, client: dts_client.DtsClient, job_id: str) -> dict[str, str]:
    """Check the job; each failed step id → its item's FailureReason."""
    dts_call(client, "CreateMigrateCheckJob", JobId=job_id)
    check = wait_check(client, job_id, world.clock)
    return {s.StepId: s.DetailCheckItems[0].FailureReason for s in check.StepInfo if s.StepStatus == "failed"}


def test_the_check_fails_a_node_type_that_is_not_the_instance_and_passes_the_right_one(
        world: World, dts: Callable[..., dts_client.DtsClient]) -> None:
    client = dts()
    (job_id,) = buy(client, "mongodb")
    configure(client, job_id, "mongodb", "cmgo-dst00001", "cmgo-dst00003", ("replicaset", "replicaset"), MONGO_AUTH)
    failed = checked(world, client, job_id)
    assert list(failed) == ["NodeTypeCheck"]
    assert "cmgo-dst00003 is a mongodb sharded instance" in failed["NodeTypeCheck"]
    assert "NodeType is replicaset (expected cluster)" in failed["NodeTypeCheck"]

    configure(client, job_id, "mongodb", "cmgo-dst00001", "cmgo-dst00003", ("replicaset", "cluster"), MONGO_AUTH)
    assert checked(world, client, job_id) == {}


def test_a_mongodb_endpoint_without_its_authentication_database_fails_to_connect(
        world: World, dts: Callable[..., dts_client.DtsClient]) -> None:
    client = dts()
    (job_id,) = buy(client, "mongodb")
    configure(client, job_id, "mongodb", "cmgo-dst00001", "cmgo-dst00003", ("replicaset", "cluster"))
    failed = checked(world, client, job_id)
    assert set(failed) == {"ConnectDBCheck"} and "(ExtraAttr AuthDatabase) is not given" in failed["ConnectDBCheck"]


def test_a_redis_target_with_data_fails_the_normal_write_mode_and_passes_overwrite(
        world: World, dts: Callable[..., dts_client.DtsClient]) -> None:
    client = dts()
    (job_id,) = buy(client, "redis")
    normal = [{"Key": "DstWriteMode", "Value": "normal"}]
    configure(client, job_id, "redis", "crs-dst00001", "crs-dst00003", ("simple", "cluster-proxy"), option=normal)
    failed = checked(world, client, job_id)
    assert set(failed) == {"DstEmptyCheck"} and "not empty and DstWriteMode is normal" in failed["DstEmptyCheck"]

    configure(client, job_id, "redis", "crs-dst00001", "crs-dst00003", ("simple", "cluster-proxy"),
              option=[{"Key": "DstWriteMode", "Value": "overwrite"}])
    assert checked(world, client, job_id) == {}
    configure(client, job_id, "redis", "crs-dst00001", "crs-dst00003", ("simple", "cluster-proxy"))
    assert checked(world, client, job_id) == {}  # unset: DTS overwrites


@pytest.mark.parametrize("engine, node_type", [("mongodb", "simple"), ("redis", "replicaset"), ("mysql", "cluster-proxy")])
def test_a_node_type_not_documented_for_the_engine_is_refused(dts: Callable[..., dts_client.DtsClient], engine: str,
                                                             node_type: str) -> None:
    client = dts()
    (job_id,) = buy(client, engine)
    ids = {"mongodb": "cmgo-dst00001", "redis": "crs-dst00001", "mysql": "cdb-dst00001"}
    error = error_of(lambda: configure(client, job_id, engine, ids[engine], ids[engine], (node_type, node_type)))
    assert error.code == "InvalidParameterValue.InvalidParameterValue"
    assert f"SrcInfo.NodeType={node_type} is not a node type of {engine}" in error.message


def test_an_undocumented_write_mode_is_refused(dts: Callable[..., dts_client.DtsClient]) -> None:
    client = dts()
    (job_id,) = buy(client, "redis")
    error = error_of(lambda: configure(client, job_id, "redis", "crs-dst00001", "crs-dst00003",
                                       ("simple", "cluster-proxy"), option=[{"Key": "DstWriteMode", "Value": "merge"}]))
    assert error.code == "InvalidParameterValue.InvalidParameterValue" and "DstWriteMode=merge" in error.message

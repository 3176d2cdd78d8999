"""Redis state of a sandbox world: the world's `redis` (and `tendis`) instances, described as DescribeInstances
does.

Tendis instances are listed by the Redis API too: Tencent documents no Tendis API, and the bot reads Tendis
through Redis' (a guess, sandbox README). No HTTP here.
"""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.world import Instance, World

PRODUCT_TYPES = {"standard": "standalone", "cluster": "cluster"}
"""world topology → `InstanceSet.ProductType` (documented: standalone 标准版, cluster 集群版)."""
REDIS_5_TYPES = {"standard": 8, "cluster": 9}
"""world topology → `InstanceSet.Type` when the instance gives none: Redis 5.0 of that architecture."""
ENGINES = ("redis", "tendis")


def instances(world: World, owner_uin: str, region: str) -> list[Instance]:
    """The account's Redis-family instances in `region`, in the world's order."""
    return [i for i in world.account(owner_uin).instances if i.engine in ENGINES and i.region == region]


def instance_set(instance: Instance) -> dict[str, Any]:
    """`InstanceSet` of one instance (the fields the sandbox models); a Tendis instance has no documented Type."""
    cluster = instance.topology == "cluster"
    described: dict[str, Any] = {
        "InstanceName": instance.instance_id, "InstanceId": instance.instance_id, "ProjectId": 0, "RegionId": 1,
        "Status": 2, "WanIp": instance.vip, "Port": instance.port, "Size": 1024.0,
        "ProductType": PRODUCT_TYPES[instance.topology], "Engine": "Redis", "Region": instance.region,
        "RedisShardNum": 3 if cluster else 1, "RedisReplicasNum": 1, "NoAuth": False,
    }
    if instance.engine == "redis":
        described["Type"] = (instance.redis_type if instance.redis_type is not None
                             else REDIS_5_TYPES[instance.topology])
    return described

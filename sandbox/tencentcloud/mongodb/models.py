"""MongoDB state of a sandbox world: the world's `mongodb` instances, described as DescribeDBInstances does.

The world holds the instances (world.Instance, `topology` replicaset or sharded); this module says what the
API reference's `InstanceDetail` shows of them. No HTTP here.
"""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.world import Instance, World

CLUSTER_TYPES = {"replicaset": 0, "sharded": 1}
"""world topology → `InstanceDetail.ClusterType` (documented: 0 replica set, 1 sharded)."""
ENGINES = ("mongodb",)


def instances(world: World, owner_uin: str, region: str) -> list[Instance]:
    """The account's MongoDB instances in `region`, in the world's order."""
    return [i for i in world.account(owner_uin).instances if i.engine in ENGINES and i.region == region]


def instance_detail(instance: Instance) -> dict[str, Any]:
    """`InstanceDetail` of one instance (the fields the sandbox models; the others are left out)."""
    sharded = instance.topology == "sharded"
    return {
        "InstanceId": instance.instance_id, "InstanceName": instance.instance_id, "PayMode": 0, "ProjectId": 0,
        "ClusterType": CLUSTER_TYPES[instance.topology], "Region": instance.region, "Zone": f"{instance.region}-3",
        "NetType": 1, "Status": 2, "Vip": instance.vip, "Vport": instance.port, "MongoVersion": "MONGO_44_WT",
        "SecondaryNum": 2, "ReplicationSetNum": 2 if sharded else 1, "InstanceType": 1,
        "MongosNodeNum": 3 if sharded else 0, "ConfigServerNodeNum": 3 if sharded else 0,
    }

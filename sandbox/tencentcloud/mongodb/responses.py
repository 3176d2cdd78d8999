"""MongoDB (v20190725) actions on the wire: DescribeDBInstances, authorized by CAM (root, or policies)."""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.exceptions import InvalidParameterValue
from sandbox.tencentcloud.mongodb.models import CLUSTER_TYPES, instance_detail, instances
from sandbox.tencentcloud.permissions import authorize, instance_resource
from sandbox.tencentcloud.responder import Responder


class MongodbResponse(Responder):
    """One method per MongoDB action, on the caller's own account (a role session: the role's account)."""

    def DescribeDBInstances(self, params: dict[str, Any]) -> dict[str, Any]:
        owner = self.caller.owner_uin
        authorize(self.world, self.caller, "mongodb", "DescribeDBInstances",
                  instance_resource("mongodb", self.region, owner, "*"))
        cluster_type = int(params.get("ClusterType", -1))
        if cluster_type not in (-1, *CLUSTER_TYPES.values()):
            raise InvalidParameterValue(f"ClusterType={cluster_type} must be 0, 1 or -1.")
        limit, offset = int(params.get("Limit", 20)), int(params.get("Offset", 0))
        if not 1 <= limit <= 100:
            raise InvalidParameterValue(f"Limit={limit} is out of range (1, 100].")
        wanted = set(params.get("InstanceIds") or ())
        found = [instance_detail(i) for i in instances(self.world, owner, self.region)
                 if (not wanted or i.instance_id in wanted)
                 and cluster_type in (-1, CLUSTER_TYPES[i.topology])]
        return {"TotalCount": len(found), "InstanceDetails": found[offset:offset + limit]}

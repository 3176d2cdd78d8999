"""Redis (v20180412) actions on the wire: DescribeInstances, authorized by CAM (root, or policies)."""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.exceptions import InvalidParameterValue
from sandbox.tencentcloud.permissions import authorize, instance_resource
from sandbox.tencentcloud.redis.models import instance_set, instances
from sandbox.tencentcloud.responder import Responder


class RedisResponse(Responder):
    """One method per Redis action, on the caller's own account (a role session: the role's account)."""

    def DescribeInstances(self, params: dict[str, Any]) -> dict[str, Any]:
        owner = self.caller.owner_uin
        authorize(self.world, self.caller, "redis", "DescribeInstances",
                  instance_resource("redis", self.region, owner, "*"))
        limit, offset = int(params.get("Limit", 20)), int(params.get("Offset", 0))
        if not 1 <= limit <= 1000:
            raise InvalidParameterValue(f"Limit={limit} is out of range [1, 1000].")
        wanted = {*(params.get("InstanceIds") or ()), *([params["InstanceId"]] if params.get("InstanceId") else [])}
        found = [instance_set(i) for i in instances(self.world, owner, self.region)
                 if not wanted or i.instance_id in wanted]
        return {"TotalCount": len(found), "InstanceSet": found[offset:offset + limit]}

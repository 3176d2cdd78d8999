"""What DTS's check finds when an endpoint does not fit its instance: a NodeType that is not the instance's
architecture, a MongoDB endpoint without the authentication database its accounts live in, a Redis target that
holds data while DstWriteMode is `normal` (documented: "requires the target to be empty, else the check fails").

The NodeType DTS expects of each TencentDB architecture, the check items' names and their wording are the
sandbox's (README, guess table): the API reference documents the values, not which architecture takes which.
"""

from __future__ import annotations

from typing import Any

from sandbox.tencentcloud.world import Instance

NODE_TYPES: dict[str, tuple[str, ...]] = {
    "mongodb": ("replicaset", "standalone", "cluster"),
    "redis": ("simple", "cluster-cache", "cluster-proxy"),
    "tendis": ("simple", "cluster-cache", "cluster-proxy"),
}
"""NodeType values documented per engine (dts DBEndpointInfo.NodeType); any other engine: GENERAL_NODE_TYPES."""
GENERAL_NODE_TYPES = ("simple", "cluster")
ARCHITECTURE_NODE_TYPE = {"replicaset": "replicaset", "sharded": "cluster", "standard": "simple",
                          "cluster": "cluster-proxy", "": "simple"}
"""world topology → the NodeType DTS's check accepts for a TencentDB instance of it."""
AUTH_DATABASE = "admin"
"""Where a TencentDB for MongoDB instance's accounts are created."""
WRITE_MODES = ("clearData", "overwrite", "normal")
DEFAULT_WRITE_MODE = "overwrite"
"""DstWriteMode when unset: "不显示指定默认以覆盖写的方式执行任务"."""

Finding = tuple[str, str]
"""(failure reason, solution) of a failed check item."""


def documented_node_types(database_type: str) -> tuple[str, ...]:
    """The NodeType values the API reference allows for an engine."""
    return NODE_TYPES.get(database_type, GENERAL_NODE_TYPES)


def _attrs(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(item.get("Key")): str(item.get("Value")) for item in items or ()}


def write_mode(option: dict[str, Any]) -> str:
    """A task's DstWriteMode (MigrateOption.ExtraAttr), DTS's default when unset."""
    return _attrs(option.get("ExtraAttr")).get("DstWriteMode", DEFAULT_WRITE_MODE)


def findings(side: str, node_type: str, extra_attr: list[dict[str, Any]], instance: Instance,
             option: dict[str, Any]) -> dict[str, Finding]:
    """Check step id → (reason, solution) for what does not fit between one configured endpoint and its instance."""
    found: dict[str, Finding] = {}
    expected = ARCHITECTURE_NODE_TYPE[instance.topology]
    if node_type != expected:
        found["NodeTypeCheck"] = (
            (f"The {side} instance {instance.instance_id} is a {instance.engine} {instance.topology or 'instance'}"
            f" instance, but the task's NodeType is {node_type} (expected {expected})."),
            "Modify the task with the instance's node type, then check again.")
    auth = _attrs(extra_attr).get("AuthDatabase")
    if instance.engine == "mongodb" and auth != AUTH_DATABASE:
        found["ConnectDBCheck"] = (
            (f"Authentication to the {side} instance {instance.instance_id} failed: the authentication database "
            f"(ExtraAttr AuthDatabase) is {auth or 'not given'}, the instance's accounts are in {AUTH_DATABASE}."),
            f"Set ExtraAttr AuthDatabase to {AUTH_DATABASE}, then check again.")
    if side == "target" and instance.has_data and write_mode(option) == "normal":
        found["DstEmptyCheck"] = (
            f"The target instance {instance.instance_id} is not empty and DstWriteMode is normal.",
            "Empty the target instance, or choose the write mode overwrite or clearData, then check again.")
    return found

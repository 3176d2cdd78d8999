"""Drift check: every value Tencent documents for what the bot reads or sends about an endpoint's topology has a
decision in `core.topology` — DTS's `DBEndpointInfo.NodeType` and MongoDB `ExtraAttr` keys, Redis'
`MigrateOption.ExtraAttr` keys and `DstWriteMode` values, MongoDB's `InstanceDetail.ClusterType`, Redis'
`InstanceSet.Type` and `.ProductType` — read from the installed SDK's model docstrings and, with tccli (or
`DTSBOT_TCCLI_PYTHON`), from its api.json too. A new value can therefore never be sent or read on a guess.

How it was checked to fail: deleting the `1` row of `MONGODB_CLUSTER_TYPES` made
`test_every_documented_value_has_a_decision[mongodb InstanceDetail.ClusterType]` fail with
`ClusterType documents values without a decision: [1]`; `test_a_removed_value_is_reported` keeps that under test.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.dts.v20211206 import models as dts_models
from tencentcloud.mongodb.v20190725 import models as mongodb_models
from tencentcloud.redis.v20180412 import models as redis_models
from test_dts_enum_drift import _tccli_python

from core import topology
from sandbox.tencentcloud.dts import topology as sandbox_topology

SDK = {"dts": ("v20211206", dts_models), "mongodb": ("v20190725", mongodb_models),
       "redis": ("v20180412", redis_models)}


def node_types(text: str) -> list[str]:
    """`simple表示…、cluster表示…；… replicaset(…)、standalone(…) …`: each value before 表示 or (."""
    return re.findall(r"([a-z][a-z-]*)(?=表示|\()", text)


def cluster_types(text: str) -> list[int]:
    """`- 0：副本集实例。` lines."""
    return [int(v) for v in re.findall(r"-\s*(-?\d+)：", text)]


def listed(text: str) -> list[str]:
    """`<li>2： Redis 2.8 …</li>` or `<li>standalone：标准版。</li>`: each value before the full-width colon."""
    return [v.strip() for v in re.findall(r"<li>\s*([\w-]+)\s*：", text)]


def keys(text: str) -> list[str]:
    """`'AuthDatabase':'admin'`, `"fetchMethod":"oplog"`, `&quot;DstWriteMode&quot;:normal`: each quoted key."""
    return re.findall(r"(?:'|\"|&quot;)([A-Za-z]\w*)(?:'|\"|&quot;)\s*[:：]", text)


def redis_section(text: str) -> str:
    """The Redis part of MigrateOption.ExtraAttr's description (it goes on with Tidb's)."""
    return text.split("Redis可定义如下的参数", 1)[1].split("Tidb可定义", 1)[0]


def write_modes(text: str) -> list[str]:
    """DstWriteMode's `可取值clearData(…)、overwrite(…)、normal(…)`."""
    return re.findall(r"(\w+)\(", redis_section(text).split("可取值", 1)[1].split("，", 1)[0])


Reading = tuple[str, str, str, Callable[[str], list[Any]], dict[Any, Any]]
READINGS: dict[str, Reading] = {
    "dts DBEndpointInfo.NodeType": ("dts", "DBEndpointInfo", "NodeType", node_types, topology.NODE_TYPES),
    "dts DBEndpointInfo.ExtraAttr (MongoDB)": ("dts", "DBEndpointInfo", "ExtraAttr", keys,
                                               topology.MONGODB_EXTRA_ATTR),
    "dts MigrateOption.ExtraAttr (Redis)": ("dts", "MigrateOption", "ExtraAttr",
                                            lambda text: keys(redis_section(text)), topology.REDIS_OPTION_EXTRA_ATTR),
    "dts MigrateOption.ExtraAttr DstWriteMode": ("dts", "MigrateOption", "ExtraAttr", write_modes,
                                                 topology.WRITE_MODES),
    "mongodb InstanceDetail.ClusterType": ("mongodb", "InstanceDetail", "ClusterType", cluster_types,
                                           topology.MONGODB_CLUSTER_TYPES),
    "redis InstanceSet.Type": ("redis", "InstanceSet", "Type", lambda text: [int(v) for v in listed(text)],
                               topology.REDIS_TYPES),
    "redis InstanceSet.ProductType": ("redis", "InstanceSet", "ProductType", listed, topology.REDIS_PRODUCT_TYPES),
}


def sdk_doc(service: str, obj: str, field: str) -> str:
    return str(getattr(SDK[service][1], obj).__dict__[field].__doc__)


def tccli_doc(service: str, obj: str, field: str) -> str:
    where = subprocess.run([_tccli_python(), "-c", "import os, tccli; print(os.path.dirname(tccli.__file__))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    api = json.loads((Path(where) / "services" / service / SDK[service][0] / "api.json").read_text())
    return next(m for m in api["objects"][obj]["members"] if m["name"] == field)["document"]


def undecided(values: list[Any], table: dict[Any, Any]) -> list[Any]:
    return [value for value in dict.fromkeys(values) if value not in table]


@pytest.mark.parametrize("reading", READINGS)
def test_every_documented_value_has_a_decision(reading: str) -> None:
    service, obj, field, values_of, table = READINGS[reading]
    values = values_of(sdk_doc(service, obj, field))
    assert len(values) >= 2, f"could not read the documented values of {reading}"
    assert not undecided(values, table), f"{field} documents values without a decision: {undecided(values, table)}"
    assert set(table) == set(values), f"{reading}: the table decides values no longer documented"


def test_a_removed_value_is_reported() -> None:
    table = dict(topology.MONGODB_CLUSTER_TYPES)
    del table[1]
    assert undecided(cluster_types(sdk_doc("mongodb", "InstanceDetail", "ClusterType")), table) == [1]


def test_each_redis_type_is_read_as_documented() -> None:
    """The edition and architecture of each Type row say what the reference says of that value."""
    text = sdk_doc("redis", "InstanceSet", "Type")
    for value, row in topology.REDIS_TYPES.items():
        said = re.search(rf"<li>{value}：\s*([^<]+)</li>", text).group(1)
        assert said.startswith(row.edition), (value, said)
        assert ("集群架构" in said) == (row.product_type == "cluster"), (value, said)
        assert row.migrates == said.startswith("Redis"), (value, said)


def test_dts_default_write_mode_is_overwrite_and_the_bot_always_sends_one() -> None:
    text = redis_section(sdk_doc("dts", "MigrateOption", "ExtraAttr"))
    assert "不显示指定默认以覆盖写的方式执行任务" in text and topology.DTS_DEFAULT_WRITE_MODE == "overwrite"
    assert "要求目标端为空，否则校验不通过" in text and topology.DEFAULT_WRITE_MODE == "normal"


def test_dts_instance_listing_carries_no_topology() -> None:
    """Why the engines' own Describe APIs are read: DescribeMigrateDBInstances' items say nothing of it. A new
    field here is the moment to prefer DTS's listing."""
    item = dts_models.MigrateDBItem()
    assert set(vars(item)) == {"_InstanceId", "_InstanceName", "_Vip", "_Vport", "_Usable", "_Hint"}


def test_the_sandbox_accepts_exactly_the_documented_node_types() -> None:
    documented = set(node_types(sdk_doc("dts", "DBEndpointInfo", "NodeType")))
    for engine, values in sandbox_topology.NODE_TYPES.items():
        assert set(values) <= documented, engine
    assert set(sandbox_topology.GENERAL_NODE_TYPES) <= documented
    assert set(sandbox_topology.WRITE_MODES) == set(topology.WRITE_MODES)


@pytest.mark.skipif(_tccli_python() is None,
                    reason="needs tccli: install it or set DTSBOT_TCCLI_PYTHON to a Python that has it")
@pytest.mark.parametrize("reading", READINGS)
def test_tccli_api_json_documents_the_same_values(reading: str) -> None:
    service, obj, field, values_of, _table = READINGS[reading]
    assert values_of(tccli_doc(service, obj, field)) == values_of(sdk_doc(service, obj, field))

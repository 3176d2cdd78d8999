"""What the close-out steps read of a DTS task: its detail, or None once DTS no longer has it."""

from __future__ import annotations

from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api
from handlers.task_lookup import job_detail

GONE_CODES = frozenset({"ResourceNotFound.JobNotExist", "ResourceNotFound.ResourceNotFound",
                        "ResourceNotFound.ResourceNotFoundError"})
GONE_TRADE = frozenset({"offlined"})
"""`TradeInfo.TradeStatus` of a task that is destroyed (offlined) even while DTS still lists it."""


def task_or_none(dts: Api, job_id: str) -> dict[str, Any] | None:
    """DescribeMigrationDetail of the task, or None when DTS says it does not exist (destroyed)."""
    try:
        return job_detail(dts, job_id)
    except TencentCloudSDKException as error:
        if str(error.get_code()) in GONE_CODES:
            return None
        raise


def trade_status(detail: dict[str, Any]) -> str:
    """`TradeInfo.TradeStatus` (normal, resizing, reversing, isolating, isolated, offlining, offlined, notBilled)."""
    return str((detail.get("TradeInfo") or {}).get("TradeStatus") or "")

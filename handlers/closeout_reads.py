"""What the close-out steps read of a DTS task: its detail, or None once DTS no longer has it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from core.cloud import Api
from handlers.task_lookup import job_detail

GONE_CODES = frozenset({"ResourceNotFound.JobNotExist", "ResourceNotFound.ResourceNotFound",
                        "ResourceNotFound.ResourceNotFoundError"})


class Trade(StrEnum):
    """What the close-out steps make of `TradeInfo.TradeStatus`."""
    BILLED = "billed"  # billed or not billed, not isolated: `JobItem.Status` decides whether it may be isolated
    CHANGING = "changing"  # a billing change under way (documented as short for reversing and isolating): read again
    ISOLATED = "isolated"  # may be destroyed or recovered
    GONE = "gone"  # destroyed, even while DTS still lists it


TRADE: dict[str, Trade] = {
    "normal": Trade.BILLED, "notBilled": Trade.BILLED,
    "resizing": Trade.CHANGING, "reversing": Trade.CHANGING, "isolating": Trade.CHANGING,
    "offlining": Trade.CHANGING,
    "isolated": Trade.ISOLATED,
    "offlined": Trade.GONE,
}
"""Every documented `TradeInfo.TradeStatus` (tests/handlers/test_dts_enum_drift.py checks the list). No
`TradeInfo` at all counts as billed (the task's status decides); an undocumented value as a change under way:
the bot acts on no billing state it does not know."""


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


def trade_of(detail: dict[str, Any] | None) -> Trade:
    """The close-out's reading of a task's billing state (`None`: DTS no longer has the task)."""
    if detail is None:
        return Trade.GONE
    status = trade_status(detail)
    return TRADE.get(status, Trade.CHANGING) if status else Trade.BILLED

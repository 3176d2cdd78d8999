"""The daily sweep posts the tagged leftovers of a lost database to the channel, each with *Clean up*; only the
owning side's approvers may press it, and a press removes exactly that resource. Through `dtsbot serve`'s wiring:
the real Bolt app over HTTP, the Tencent Cloud sandbox and the Slack emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.sweep_report import daily_sweep
from core import policies
from core.cloud import CloudClients
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from tests.support.serving import WAIT, serving
from tests.support.workspace import (
    CHANNEL,
    SOURCE_OWNER,
    SOURCE_UIN,
    TARGET_OWNER,
    TARGET_UIN,
    serve_settings,
)

GONE = "mr-gone22"  # a request of a database that was lost


def test_clean_up_buttons_remove_what_the_owning_side_approves(tmp_path) -> None:
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'sweep.db'}")
        clients = CloudClients(settings)
        trust = json.dumps(policies.trust_policy(TARGET_UIN, None))
        clients.cam("shop-prod").call("CreateRole", {"RoleName": "dtsbot-mr-gone22", "PolicyDocument": trust,
                                                     "Tags": policies.owner_tags(GONE)})
        clients.cam("shop-prod").call("CreateRole", {"RoleName": "dtsbot-by-hand", "PolicyDocument": trust})
        [job_id] = clients.dts("analytics", "ap-guangzhou").call("CreateMigrationService", {
            "SrcDatabaseType": "mysql", "DstDatabaseType": "mysql", "SrcRegion": "ap-guangzhou",
            "DstRegion": "ap-guangzhou", "InstanceClass": "small",
            "Tags": [{"TagKey": "dtsbot-request", "TagValue": GONE}]})["JobIds"]

        with serving(settings, slack, cloud) as story:
            at_noon = datetime.now(UTC).replace(hour=12)
            assert daily_sweep(settings, story.runtime.db, story.runtime.client, clients, lambda: at_noon)
            assert not daily_sweep(settings, story.runtime.db, story.runtime.client, clients, lambda: at_noon)
            posted = slack.wait_for(lambda: next((m for m in slack.messages(CHANNEL)
                                                  if "dtsbot sweep: 2 leftovers" in m.get("text", "")), None),
                                    timeout=WAIT)
            assert "dtsbot-by-hand" not in json.dumps(posted)

            def button(name: str) -> dict:
                """The message with only the *Clean up* of `name` (so the driver clicks that one)."""
                blocks = posted["blocks"]
                at = next(n for n, b in enumerate(blocks) if name in b.get("text", {}).get("text", ""))
                return {**posted, "blocks": [blocks[at], blocks[at + 1]]}

            def press(user: str, name: str) -> str:
                seen = len(slack.ephemerals(user))
                assert story.driver.click(user, button(name), "clean_up").status == 200
                return slack.wait_for(lambda: slack.ephemerals(user)[seen:], timeout=WAIT)[0]["text"]

            assert "Only the approvers of shop-prod" in press(TARGET_OWNER, "dtsbot-mr-gone22")
            assert "dtsbot-mr-gone22" in cloud.world.cam(SOURCE_UIN).roles
            assert "deleted" in press(SOURCE_OWNER, "dtsbot-mr-gone22")
            assert "dtsbot-mr-gone22" not in cloud.world.cam(SOURCE_UIN).roles
            assert "dtsbot-by-hand" in cloud.world.cam(SOURCE_UIN).roles

            assert "Only the approvers of analytics" in press(SOURCE_OWNER, job_id)
            assert "destroyed" in press(TARGET_OWNER, job_id)
            assert job_id not in dts_backend(cloud.world).jobs
            assert "already gone" in press(TARGET_OWNER, job_id)  # a second press removes nothing

"""A cancel after the DTS task was bought (here: its verification failed) no longer leaves the task in the target
account: the thread says the bot closes it out, and since it never ran it is isolated and destroyed at once
(core/closeout.py). Through `dtsbot serve`'s wiring: the real Bolt app over HTTP, the scheduler, the Tencent Cloud
sandbox and the Slack emulator."""

from __future__ import annotations

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from tests.support.commands import INLINE
from tests.support.serving import WAIT, serving
from tests.support.workspace import SOURCE_UIN, serve_settings


def test_a_cancel_after_verification_failed_closes_out_the_task_it_bought(tmp_path) -> None:
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        cloud.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001").fail_checks = ["BinlogParamCheck"]
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'left.db'}")
        with serving(settings, slack, cloud) as story:
            rid = story.open(INLINE)
            story.approve(rid)
            story.reaches(rid, "verify_failed")
            story.cancel(rid)
            story.reaches(rid, "cancelled")
            job_id = eventually(lambda: next((c.params.get("JobId") for c in cloud.calls.of("CreateMigrateCheckJob")),
                                             None), WAIT)
            notice = eventually(lambda: "destroyed:" in story.thread_text(rid) and story.thread_text(rid),
                                WAIT, "the notice of the task destroyed")
            assert (f"DTS task `{job_id}` was bought for this request: the bot now isolates it in analytics") in notice
            assert f"DTS task `{job_id}` destroyed: nothing of this request is left running or billing." in notice
            assert job_id not in dts_backend(cloud.world).jobs
            assert not cloud.calls.of("StartMigrateJob")

"""*Undo close-out*: once a finished request's DTS task is isolated and kept, the thread carries the button; a
source approver is refused, a target approver has the task recovered (RecoverMigrateJob) and kept. Through `dtsbot
serve`'s wiring: the real Bolt app over HTTP, the scheduler, the Tencent Cloud sandbox and the Slack emulator."""

from __future__ import annotations

from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope
from tests.support.commands import inline
from tests.support.serving import WAIT, serving
from tests.support.workspace import CHANNEL, SOURCE_OWNER, TARGET_OWNER, serve_settings


def test_a_target_approver_undoes_the_close_out_within_retention(tmp_path) -> None:
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'undo.db'}")
        with serving(settings, slack, cloud) as story:
            rid = story.open(inline(migrate_type="full"))
            story.approve(rid)
            story.reaches(rid, "succeeded")

            def undo_notice() -> dict | None:
                replies = slack.thread(CHANNEL, story.message(rid)["ts"])
                return next((r for r in replies if any(e.get("action_id") == "undo_closeout"
                                                        for b in r.get("blocks", []) for e in b.get("elements", []))),
                            None)

            notice = eventually(undo_notice, WAIT, "the notice with *Undo close-out*")
            assert "isolated: it no longer bills, and is kept until" in notice["text"]

            refused = len(slack.ephemerals(SOURCE_OWNER))
            assert story.driver.click(SOURCE_OWNER, notice, "undo_closeout").status == 200
            answer = slack.wait_for(lambda: slack.ephemerals(SOURCE_OWNER)[refused:], timeout=WAIT)[0]
            assert "Only the approvers of analytics" in answer["text"]

            assert story.driver.click(TARGET_OWNER, notice, "undo_closeout").status == 200

            def closeout() -> str | None:
                with session_scope(story.runtime.db) as session:
                    return repository.get_request(session, rid).closeout

            eventually(lambda: closeout() == "kept", WAIT, "the task recovered")
            with session_scope(story.runtime.db) as session:
                job_id = repository.get_request(session, rid).job_id
            job = dts_backend(cloud.world).jobs[job_id]
            assert job.trade_status(cloud.world.clock.now()) == "normal"
            assert [c.params["JobId"] for c in cloud.calls.of("RecoverMigrateJob")] == [job_id]
            eventually(lambda: "recovered (`normal`)" in story.thread_text(rid), WAIT, "the thread told")

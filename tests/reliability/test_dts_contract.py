"""DTS as Tencent Cloud documents it, through `dtsbot serve`, the real SDK and the Slack emulator: a check that
ran and did not pass (Status=success, CheckFlag=checkNotPass) is posted as failed with its items and Re-verify
and the task is not started; DTS's own retry (resumableErr → resuming) and a person's pause (manualPaused) show
in the request's status and the task still reaches *ready to complete*."""

from __future__ import annotations

from flow import Cluster

from sandbox.tencentcloud.dts.models import dts_backend
from sandbox.waiting import eventually
from tests.support.workspace import REQUESTER, SOURCE_UIN

REGION = "ap-guangzhou"


def started_request(cluster: Cluster) -> str:
    replica = cluster.replica()
    rid = cluster.open_request(replica)
    cluster.approve(replica, rid)
    return rid


def status_block(cluster: Cluster, rid: str) -> str:
    message = cluster.slack.message(cluster.request(rid).message_ts)
    return str(next(b for b in message["blocks"] if b.get("block_id") == "status"))


def test_check_not_passed_is_failed_with_its_items_and_reverify(cluster: Cluster) -> None:
    source = cluster.tencentcloud.world.instance(SOURCE_UIN, REGION, "cdb-src00001")
    source.fail_checks = ["BinlogParamCheck", "SrcPrivilegeCheck:warning"]
    rid = started_request(cluster)
    eventually(lambda: cluster.request(rid).state == "verify_failed", 60, "verify_failed")
    request = cluster.request(rid)
    notice = eventually(lambda: [m for m in cluster.slack.thread(request.channel, request.message_ts)
                                 if "Re-verify" in str(m.get("blocks"))], 30, "the failed check's notice")[-1]
    text = notice["text"]
    assert "Verification of" in text and "failed" in text
    assert "binlog" in text and "binlog_format=ROW" in text  # the failed item and its fix
    assert "https://cloud.tencent.com/document/product/571/58685" in text  # DTS's HelpDoc
    assert "源实例权限检查" in text  # the warning item
    assert not any("passed" in t and "Verification" in t for t in cluster.thread(rid))
    assert not cluster.tencentcloud.calls.of("StartMigrateJob")

    source.fail_checks = []
    driver = cluster.driver(cluster.replicas[-1])
    assert driver.click(REQUESTER, {**notice, "channel": request.channel}, "reverify").status == 200
    cluster.wait_running([rid], timeout=60)
    assert len(cluster.tencentcloud.calls.of("CreateMigrateCheckJob")) == 2


def test_resumable_error_and_pause_are_shown_and_the_task_reaches_ready_to_complete(cluster: Cluster) -> None:
    rid = started_request(cluster)
    cluster.wait_running([rid], timeout=60)
    backend = dts_backend(cluster.tencentcloud.world)
    job = backend.jobs[cluster.request(rid).job_id]
    with cluster.tencentcloud.world.lock:
        backend.put(job, "resumableErr", then=[])  # DTS retries (its window: 30 min); held until the test moves on
    eventually(lambda: "DTS is retrying after an error (resumableErr): it retries by itself until"
               in status_block(cluster, rid), 60, "the retry in the request's status")
    with cluster.tencentcloud.world.lock:
        backend.put(job, "pausing", then=[(1, "manualPaused")])
    eventually(lambda: "paused outside Slack (manualPaused)" in status_block(cluster, rid), 60,
               "the pause in the request's status")
    with cluster.tencentcloud.world.lock:
        backend.put(job, "resuming")  # then running, then readyComplete on its own
    eventually(lambda: cluster.request(rid).state == "ready_to_complete", 90, "ready_to_complete")
    with_retry = cluster.thread(rid)
    assert any("resumableErr" in t for t in with_retry) and any("manualPaused" in t for t in with_retry)
    assert not any(":x:" in t for t in with_retry)  # never called failed
    assert "resumableErr" not in status_block(cluster, rid)

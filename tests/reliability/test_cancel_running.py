"""Cancelling a request whose DTS task may run, against `dtsbot serve` and the sandboxes: the bot stops the
task (StopMigrateJob), waits until DTS reports it `canceled`, and only then revokes the role — from the Cancel
button of a running request, from `/dts-migrate cancel` of a failed request whose task actually runs or that DTS
stopped with an error (`error`) or reports `unknown` (StopMigrateJob's documented statuses), and when the bot is
killed between StopMigrateJob and the revoke."""

from __future__ import annotations

import pytest
from flow import Cluster
from serveproc import Replica

from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope
from tests.support.workspace import REQUESTER, SOURCE_UIN, TARGET_OWNER

HOLD = 3.0  # seconds the sandbox holds StopMigrateJob's answer: the kill comes first
TASK_RUNS = ("running", "ready_to_complete")


class RevokeWatch:
    """Records the DTS status of the request's task at each DeleteRole: the revoke must come after `canceled`."""

    def __init__(self, cluster: Cluster, request_id: str) -> None:
        self.cluster, self.request_id = cluster, request_id
        self.statuses: list[str] = []
        cluster.tencentcloud.hooks.before("DeleteRole", self._deleting)

    def _deleting(self, _params: dict) -> None:
        self.statuses.append(task_status(self.cluster, self.request_id))


def task_status(cluster: Cluster, request_id: str) -> str:
    backend = cluster.tencentcloud.world.services["dts"]
    [job] = [j for j in backend.jobs.values() if j.tags.get("dtsbot-request") == request_id]
    return job.status(cluster.tencentcloud.world.clock.now())


def running_request(cluster: Cluster, bot: Replica) -> str:
    """A fullAndIncrement request (its task keeps running until Complete) whose DTS task runs."""
    request_id = cluster.open_request(bot, "migrate_type=fullAndIncrement")
    cluster.approve(bot, request_id)
    eventually(lambda: cluster.request(request_id).state in TASK_RUNS, 90, f"{request_id} to run",
               interval=0.2)
    return request_id


def actions(cluster: Cluster) -> list[str]:
    return [r.action for r in cluster.tencentcloud.calls.records if r.outcome in ("ok", "committed-dropped")]


def cancel_by_command(cluster: Cluster, bot: Replica, user: str, request_id: str) -> str:
    """`/dts-migrate cancel ID`, then the confirmed click; returns the answer that replaced the confirmation."""
    count = len(cluster.slack.ephemerals(user))
    assert cluster.driver(bot).slash(user, f"cancel {request_id}").status == 200
    confirm = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(user)[count:], timeout=30)[0]
    assert confirm["blocks"][1]["elements"][0]["confirm"]["style"] == "danger"
    assert cluster.driver(bot).click(user, confirm, "cancel").status == 200
    return cluster.slack.wait_for(lambda: [e["text"] for e in cluster.slack.ephemerals(user)
                                           if e["ts"] == confirm["ts"] and e["text"] != confirm["text"]],
                                  timeout=30)[0]


def assert_stopped_then_revoked(cluster: Cluster, request_id: str, watch: RevokeWatch) -> None:
    done = actions(cluster)
    assert done.count("StopMigrateJob") == 1 and done.count("DeleteRole") == 1
    assert done.index("StopMigrateJob") < done.index("DeleteRole")
    assert watch.statuses == ["canceled"]  # DTS reported the task stopped before the role went
    assert cluster.tencentcloud.world.cam(SOURCE_UIN).find_role(cluster.request(request_id).role_name) is None
    assert cluster.request(request_id).state == "cancelled"


def test_the_cancel_button_on_a_running_request_stops_the_task_before_revoking(cluster: Cluster) -> None:
    bot = cluster.replica("bot")
    request_id = running_request(cluster, bot)
    watch = RevokeWatch(cluster, request_id)
    message = eventually(lambda: (m := cluster.request_message(request_id)) and "cancel" in str(m["blocks"]) and m,
                         30, "the Cancel button on the request message")
    button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == "cancel")
    assert button["confirm"]["style"] == "danger" and "stopped" in button["confirm"]["text"]["text"]

    count = len(cluster.slack.ephemerals(REQUESTER))  # the requester is no target approver: refused
    assert cluster.driver(bot).click(REQUESTER, message, "cancel").status == 200
    refusal = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(REQUESTER)[count:], timeout=30)[0]
    assert "Only the approvers of analytics" in refusal["text"]
    assert cluster.request(request_id).state in TASK_RUNS and "StopMigrateJob" not in actions(cluster)

    count = len(cluster.slack.ephemerals(TARGET_OWNER))
    assert cluster.driver(bot).click(TARGET_OWNER, message, "cancel").status == 200
    answer = cluster.slack.wait_for(lambda: cluster.slack.ephemerals(TARGET_OWNER)[count:], timeout=30)[0]
    assert "stopping the DTS task" in answer["text"]
    eventually(lambda: cluster.request(request_id).state == "cancelled", 60, f"{request_id} to be cancelled",
               interval=0.2)
    assert_stopped_then_revoked(cluster, request_id, watch)
    cluster.wait_delivered()
    thread = cluster.thread(request_id)
    stopping = next(i for i, t in enumerate(thread) if t.startswith("Stopping DTS task"))
    assert any(t.startswith("Access revoked") for t in thread[stopping + 1:]), thread


def test_a_cancel_of_a_failed_request_whose_task_runs_stops_it_first(cluster: Cluster) -> None:
    bot = cluster.replica("bot-0")
    request_id = running_request(cluster, bot)
    bot.kill()
    # StartMigrateJob took effect but its answer was lost and the retries ran out: the bot recorded a failure.
    with session_scope(cluster.db) as session:
        request = repository.get_request(session, request_id)
        repository.update_request(session, request, state="failed", failed_step="starting", lease_owner=None, lease_until=None, last_error="starting: connection lost")
    assert task_status(cluster, request_id) in ("readyRun", "running", "readyComplete")  # it runs
    watch = RevokeWatch(cluster, request_id)
    bot = cluster.replica("bot-1")
    assert "stopping the DTS task" in cancel_by_command(cluster, bot, TARGET_OWNER, request_id)
    eventually(lambda: cluster.request(request_id).state == "cancelled", 60, f"{request_id} to be cancelled",
               interval=0.2)
    assert_stopped_then_revoked(cluster, request_id, watch)


def test_killed_between_stop_and_revoke_it_finishes_without_deleting_early(cluster: Cluster) -> None:
    bot = cluster.replica("bot-0")
    request_id = running_request(cluster, bot)
    watch = RevokeWatch(cluster, request_id)
    fault = cluster.tencentcloud.faults.add("StopMigrateJob", "slow", count=1, delay=HOLD)
    assert "stopping the DTS task" in cancel_by_command(cluster, bot, TARGET_OWNER, request_id)
    eventually(lambda: fault.held, 30, "StopMigrateJob to be applied and its answer held")
    bot.kill()
    assert cluster.request(request_id).state == "stopping_task"
    # DTS takes its time to stop: the task stays `stopping` until the test lets it finish.
    backend = cluster.tencentcloud.world.services["dts"]
    [job] = [j for j in backend.jobs.values() if j.tags.get("dtsbot-request") == request_id]
    with cluster.tencentcloud.world.lock:
        backend.put(job, "stopping", then=[])

    polls = len(cluster.tencentcloud.calls.of("DescribeMigrationDetail"))
    cluster.replica("bot-1")
    eventually(lambda: len(cluster.tencentcloud.calls.of("DescribeMigrationDetail")) >= polls + 2, 60,
               "the restarted bot to read the stopping task twice", interval=0.2)
    assert "DeleteRole" not in actions(cluster) and cluster.request(request_id).state == "stopping_task"
    assert cluster.tencentcloud.world.cam(SOURCE_UIN).find_role(cluster.request(request_id).role_name) is not None

    with cluster.tencentcloud.world.lock:
        backend.put(job, "canceled")
    eventually(lambda: cluster.request(request_id).state == "cancelled", 60, f"{request_id} to be cancelled",
               interval=0.2)
    assert_stopped_then_revoked(cluster, request_id, watch)


def test_a_cancel_while_the_task_is_being_bought_names_and_records_the_task(cluster: Cluster) -> None:
    bot = cluster.replica("bot-0")
    request_id = cluster.open_request(bot)
    fault = cluster.tencentcloud.faults.add("CreateMigrationService", "slow", count=1, delay=HOLD)
    cluster.approve(bot, request_id)
    eventually(lambda: fault.held, 60, "the purchase to be made and its answer held")
    assert "revoking" in cancel_by_command(cluster, bot, REQUESTER, request_id)
    eventually(lambda: cluster.request(request_id).state == "cancelled", 60, f"{request_id} to be cancelled",
               interval=0.2)
    job_id = cluster.request(request_id).job_id
    assert job_id and task_status(cluster, request_id) == "created"  # bought, never started
    eventually(lambda: any(f"DTS task `{job_id}` was bought for this request" in t for t in cluster.thread(request_id)),
               30, "the thread to name the bought task")
    assert "StartMigrateJob" not in actions(cluster) and "DeleteRole" in actions(cluster)


def test_a_cancel_that_comes_after_the_cutover_ends_the_request_succeeded(cluster: Cluster) -> None:
    bot = cluster.replica("bot-0")
    request_id = running_request(cluster, bot)
    eventually(lambda: cluster.request(request_id).state == "ready_to_complete", 90, "ready to complete",
               interval=0.2)
    fault = cluster.tencentcloud.faults.add("CompleteMigrateJob", "slow", count=1, delay=HOLD)
    message = eventually(lambda: (m := cluster.request_message(request_id)) and "complete" in str(m["blocks"]) and m,
                         30, "the Complete button")
    assert cluster.driver(bot).click(TARGET_OWNER, message, "complete").status == 200
    eventually(lambda: fault.held, 60, "CompleteMigrateJob to be applied and its answer held")
    cancel_by_command(cluster, bot, TARGET_OWNER, request_id)
    eventually(lambda: cluster.request(request_id).state in ("succeeded", "cancelled"), 90, "the request to end",
               interval=0.2)
    assert cluster.request(request_id).state == "succeeded"  # the cutover happened: not "cancelled"
    assert "StopMigrateJob" not in actions(cluster) and actions(cluster).count("DeleteRole") == 1
    eventually(lambda: any("had already completed" in t for t in cluster.thread(request_id)), 30,
               f"the thread to say the cutover had happened: {cluster.thread(request_id)}")


@pytest.mark.parametrize(("status", "request_state"), [("error", "failed"), ("unknown", "running")])
def test_a_task_in_error_or_unknown_is_stopped_before_the_access_goes(cluster: Cluster, status: str,
                                                                       request_state: str) -> None:
    """`error`: the request failed with *Retry task*; `unknown`: it is watched on. Either way the cancel stops the
    task first: StopMigrateJob is documented for both."""
    bot = cluster.replica("bot")
    request_id = running_request(cluster, bot)
    backend = cluster.tencentcloud.world.services["dts"]
    [job] = [j for j in backend.jobs.values() if j.tags.get("dtsbot-request") == request_id]
    with cluster.tencentcloud.world.lock:
        backend.put(job, status, then=[])
    eventually(lambda: (r := cluster.request(request_id)).facts.dts_status == status and r.state == request_state,
               60, f"the bot to see `{status}`", interval=0.2)
    watch = RevokeWatch(cluster, request_id)
    assert "stopping the DTS task" in cancel_by_command(cluster, bot, TARGET_OWNER, request_id)
    eventually(lambda: cluster.request(request_id).state == "cancelled", 60, f"{request_id} to be cancelled",
               interval=0.2)
    assert_stopped_then_revoked(cluster, request_id, watch)
    stop = next(r for r in cluster.tencentcloud.calls.records if r.action == "StopMigrateJob")
    assert stop.outcome == "ok"  # accepted in `error` / `unknown`, as documented

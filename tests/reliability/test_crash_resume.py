"""Crash at every step: `dtsbot serve` is SIGKILLed at each point of a migration and restarted.

Kill points are the actions of the flow in the order a clean run calls them (the sandbox's call log): for a
write the sandbox applies it and holds the answer (`slow`), so the kill lands between the cloud change and the
bot's database write; for a read it lands between two cloud calls. After each kill a new process takes over
(the dead one's lease expires) and the last one must bring the request to Running with every cloud change made
once, one DTS task, and each channel notice posted once.
"""

from __future__ import annotations

from collections import Counter

import pytest
from flow import Cluster

from sandbox.waiting import eventually

HOLD = 3.0  # seconds the sandbox holds an answer: the kill comes first, the record after
# GetRole is not a point: the first one answers ResourceNotFound, and the sandbox holds only answers that succeed
ROOT_POINTS = ("CreateRole", "ListAttachedRolePolicies", "AttachRolePolicy", "AssumeRole",
               "DescribeMigrateDBInstances", "DescribeMigrationJobs", "CreateMigrationService",
               "DescribeMigrationDetail", "ModifyMigrationJob", "DescribeMigrationCheckJob",
               "CreateMigrateCheckJob", "StartMigrateJob")
GRANT_POINTS = ("ListPolicies", "CreatePolicy", "AttachUserPolicy")


def crash_through(cluster: Cluster, points: tuple[str, ...], extra: str = "") -> str:
    """Open and approve a request, then kill the serving process at each point in turn; returns its id."""
    bot = cluster.replica("bot-0")
    request_id = cluster.open_request(bot, extra)
    cluster.approve(bot, request_id)
    held = []
    for number, action in enumerate(points, start=1):
        fault = cluster.tencentcloud.faults.add(action, "slow", count=1, delay=HOLD)
        held.append(fault)
        if bot is None:
            bot = cluster.replica(f"bot-{number}")
        eventually(lambda fault=fault: fault.held, 30,
                   f"a call of {action} after {[r.action for r in cluster.tencentcloud.calls.records][-5:]} "
                   f"(state {cluster.request(request_id).state})")
        bot.kill()  # the sandbox has applied the action and holds the answer
        bot = None
    cluster.replica("bot-last")
    cluster.wait_running([request_id], timeout=90)
    cluster.wait_delivered(timeout=30)  # a notice a killed notifier had claimed waits out its short lease
    eventually(lambda: all(f.answered == f.held for f in held), 30, "the held answers to be recorded")
    return request_id


def assert_once(cluster: Cluster, request_id: str, expected_changes: set[str]) -> None:
    changes = cluster.cloud_changes()
    assert {action for action, _ in changes} >= expected_changes
    assert {k: n for k, n in changes.items() if n != 1} == {}
    assert len(cluster.jobs_of(request_id)) == 1
    texts = Counter(cluster.thread(request_id))
    assert {t: n for t, n in texts.items() if n != 1} == {}
    # "started: *Running*", or "is running" when the kill came after StartMigrateJob took effect
    assert any(" started: *Running*" in t or " is running." in t for t in texts), "\n".join(texts)


def test_a_kill_while_the_task_is_being_bought_buys_one_task(cluster: Cluster) -> None:
    request_id = crash_through(cluster, ("CreateMigrationService",))
    assert_once(cluster, request_id, {"CreateRole", "CreateMigrationService", "StartMigrateJob"})


@pytest.mark.slow
def test_killed_at_every_step_as_root(cluster: Cluster) -> None:
    request_id = crash_through(cluster, ROOT_POINTS)
    assert_once(cluster, request_id, {"CreateRole", "AttachRolePolicy", "CreateMigrationService",
                                      "ModifyMigrationJob", "CreateMigrateCheckJob", "StartMigrateJob"})


@pytest.mark.slow
def test_killed_at_every_step_with_the_sub_account_executor(cluster: Cluster) -> None:
    points = ROOT_POINTS[:3] + GRANT_POINTS + ROOT_POINTS[3:]
    request_id = crash_through(cluster, points, "executor=100000000021")
    assert_once(cluster, request_id, {"CreateRole", "AttachRolePolicy", "CreatePolicy", "AttachUserPolicy",
                                      "CreateMigrationService", "StartMigrateJob"})

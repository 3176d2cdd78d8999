"""The request message's step list agrees with the thread at every notice, against `dtsbot serve` (the real Bolt
app over signed HTTP), the Slack emulator and the Tencent Cloud sandbox: a whole happy path and a failed
verification. The emulator keeps every earlier version of the message (chat.update history) and every reply,
each with its ts, so the test replays the channel in order: each version of the message must show as done
exactly the steps the thread had announced when it was written (never more: it must not run ahead), and after
every notice the message is brought up to it before the next one is posted."""

from __future__ import annotations

from flow import Cluster
from sqlmodel import select

from bot.notifier import NOTICE_EVENT
from sandbox.waiting import eventually
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.support.workspace import CHANNEL, SOURCE_UIN, TARGET_OWNER

DONE_BY: dict[str, str] = {
    "approved": "Both owners approve",
    "role_created": "Source account: CAM role",
    "subaccount_granted": "Target sub-account: sts:AssumeRole grant",
    "preflight_passed": "Preflight: assume the role, list the source",
    "task_bought": "Buy the DTS task",
    "configured": "Configure the DTS task",
    "verification_passed": "Verify",
    "running": "Start",
    "task_succeeded": "Migrate",
    "succeeded": "Revoke the cross-account access",
}
"""The engine's thread notice (its event) that says a step of the journey is done."""


def event(cluster: Cluster, reply: dict) -> str:
    """The event a thread notice announces, from its outbox row (found by the key in the reply's metadata)."""
    meta = reply.get("metadata") or {}
    assert meta.get("event_type") == NOTICE_EVENT, reply
    with session_scope(cluster.db) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.key == meta["event_payload"]["key"])).one()
        return str(row.payload.get("event"))


def marked(version: dict, mark: str) -> set[str]:
    """The step labels a version of the request message shows with `mark` (✓, ⏳, ✗)."""
    [journey] = [b["text"]["text"] for b in version["blocks"] if b.get("block_id") == "journey"] or [""]
    lines = [line[2:] for line in journey.split("\n") if line.startswith(mark + " ")]
    return {label for label in DONE_BY.values() for line in lines if line == label or line.startswith(label + ":")}


def replay(cluster: Cluster, request_id: str) -> list[tuple[str, str, dict]]:
    """The channel in order: ("notice", event, reply) and ("message", "", version of the request message)."""
    ts = cluster.request(request_id).message_ts
    versions = [*cluster.slack.history(ts), cluster.slack.message(ts)]
    timeline = [(float((v.get("edited") or {}).get("ts") or v["ts"]), "message", "", v) for v in versions]
    timeline += [(float(r["ts"]), "notice", event(cluster, r), r) for r in cluster.slack.thread(CHANNEL, ts)]
    return [(kind, name, item) for _, kind, name, item in sorted(timeline, key=lambda t: t[0])]


def check_agreement(cluster: Cluster, request_id: str) -> list[str]:
    """Assert that every version of the message shows as done what the thread had said; returns the events."""
    announced: set[str] = set()
    verify_failed = False
    events: list[str] = []
    brought_up = True
    for kind, name, item in replay(cluster, request_id):
        if kind == "notice":
            assert brought_up, f"notice {name} posted before the message showed notice {events[-1]}"
            events.append(name)
            announced |= {DONE_BY[name]} if name in DONE_BY else set()
            verify_failed = name == "verification_failed" or (verify_failed and name == "progress")
            brought_up = False
            continue
        done = marked(item, "✓")
        assert done == announced, f"after {events[-1:]} the message shows done {sorted(done - announced)} " \
                                  f"ahead of the thread / misses {sorted(announced - done)}"
        assert marked(item, "✗") == ({"Verify"} if verify_failed else set())
        brought_up = True
    assert brought_up, f"the message never caught up with the last notice {events[-1]}"
    return events


def test_the_step_list_matches_the_thread_at_every_notice_of_a_whole_migration(cluster: Cluster) -> None:
    bot = cluster.replica()
    request_id = cluster.open_request(bot, "migrate_type=fullAndIncrement")
    cluster.approve(bot, request_id)
    eventually(lambda: cluster.request(request_id).state == "ready_to_complete", 120, f"{request_id} ready",
               interval=0.2)
    cluster.wait_delivered()
    ready = cluster.request_message(request_id)
    assert "⏳ Migrate: ready to complete" in str(ready["blocks"])
    assert cluster.driver(bot).click(TARGET_OWNER, ready, "complete").status == 200
    eventually(lambda: cluster.request(request_id).state == "succeeded", 120, f"{request_id} to succeed",
               interval=0.2)
    cluster.wait_delivered()

    events = check_agreement(cluster, request_id)
    assert [e for e in events if e in DONE_BY][-3:] == ["running", "task_succeeded", "succeeded"]
    final = cluster.request_message(request_id)
    assert marked(final, "✓") == set(DONE_BY.values()) - (
        set() if "subaccount_granted" in events else {DONE_BY["subaccount_granted"]})
    assert "State `succeeded`" in str(final["blocks"])


def test_the_step_list_matches_the_thread_when_verification_fails(cluster: Cluster) -> None:
    source = cluster.tencentcloud.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001")
    source.fail_checks = ["BinlogParamCheck"]
    bot = cluster.replica()
    request_id = cluster.open_request(bot)
    cluster.approve(bot, request_id)
    eventually(lambda: cluster.request(request_id).state == "verify_failed", 120, f"{request_id} to fail checks",
               interval=0.2)
    cluster.wait_delivered()

    events = check_agreement(cluster, request_id)
    assert "verification_failed" in events
    final = cluster.request_message(request_id)
    assert marked(final, "✗") == {"Verify"} and "Start" not in marked(final, "✓")

"""Say less before consent: who may open (or edit) a request is decided before the bot reads the source account's
CAM; until the source side approves, the channel's plan says only "create" or "use existing" for the role, and
what CAM said of an existing role goes privately to the source approvers; external IDs show at most four
characters. Through `dtsbot serve`'s wiring: the real Bolt app over HTTP, the scheduler, the Tencent Cloud
sandbox (every CAM read is in its call log) and the Slack emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core import policies, validation
from core.requests import MigrationRequests
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from tests.support.commands import INLINE
from tests.support.serving import WAIT, Serving, serving
from tests.support.workspace import (
    CHANNEL,
    REQUESTER,
    SOURCE_OWNER,
    SOURCE_UIN,
    STRANGER,
    TARGET_OWNER,
    TARGET_UIN,
    serve_settings,
)

EXTERNAL_ID = "legacy-external-id-0123456789"
CAM_READS = ("GetRole", "ListAttachedRolePolicies")


@pytest.fixture
def story(tmp_path) -> Iterator[Serving]:
    """`dtsbot serve` on the sandboxes; only REQUESTER may open requests."""
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = serve_settings(slack, cloud.endpoint, f"sqlite:///{tmp_path / 'consent.db'}")
        settings = settings.model_copy(update={"requesters": [REQUESTER]})
        with serving(settings, slack, cloud) as running:
            yield running


def hand_made_role(cloud: TencentCloudSandbox, *attached: str) -> None:
    """`LegacyDTS`, made by a person in the source account, trusting the target root with EXTERNAL_ID."""
    cam = cloud.world.cam(SOURCE_UIN)
    role = cam.create_role("LegacyDTS", policies.document(policies.trust_policy(TARGET_UIN, EXTERNAL_ID)), "hand")
    for policy in attached:
        cam.attach_role_policy(cam.policy_by_name(policy), role)


def cam_reads(story: Serving) -> list[str]:
    return [c.action for c in story.cloud.calls.records if c.action in CAM_READS]


def said_to(story: Serving, user: str) -> str:
    return "\n".join(e["text"] for e in story.slack.ephemerals(user))


def channel_text(story: Serving, request_id: str) -> str:
    message = story.message(request_id)
    return str(message["blocks"]) + "\n".join(m.get("text", "") for m in story.slack.thread(CHANNEL, message["ts"]))


def test_a_stranger_learns_nothing_of_the_source_account(story: Serving) -> None:
    hand_made_role(story.cloud, "QcloudDTSReadOnlyAccess")
    count = len(story.slack.ephemerals(STRANGER))
    assert story.driver.slash(STRANGER, f"{INLINE} role_name=LegacyDTS").status == 200
    refused = story.slack.wait_for(lambda: story.slack.ephemerals(STRANGER)[count:], timeout=WAIT)[0]["text"]
    assert refused == "Nothing was created. Only the configured requesters may open a migration request here."
    assert cam_reads(story) == [], "CAM is read only for someone who may open the request"
    assert REQUESTER not in refused


def test_an_edit_into_an_account_the_requester_may_not_use_reads_no_cam(story: Serving) -> None:
    finance = story.runtime.settings.accounts[0].model_copy(update={
        "name": "finance", "uin": "100000000003", "requesters": [SOURCE_OWNER]})
    settings = story.runtime.settings.model_copy(update={"accounts": [*story.runtime.settings.accounts, finance]})
    read: list[str] = []
    requests = MigrationRequests(story.runtime.db, settings, inspect_role=lambda r: read.append(r.role_name) or {})
    fields: dict[str, Any] = {**validation.OPTIONAL_DEFAULTS, **dict(p.split("=", 1) for p in INLINE.split())}
    opened = requests.open(fields, REQUESTER)
    assert opened.ok and opened.request is not None and read == []
    edited = requests.edit(opened.request.id, REQUESTER, {**fields, "source_account": "finance",
                                                          "role_name": "LegacyDTS"})
    assert not edited.ok and "finance's requesters" in edited.message
    assert read == [], "refused before CAM is read"
    assert requests.edit(opened.request.id, STRANGER, {**fields, "role_name": "LegacyDTS"}).ok is False
    assert read == []


def test_until_the_source_side_approves_the_plan_only_says_use_existing(story: Serving) -> None:
    hand_made_role(story.cloud, "QcloudDTSReadOnlyAccess")  # lacks QcloudCDBReadOnlyAccess
    rid = story.open(f"{INLINE} role_name=LegacyDTS external_id={EXTERNAL_ID}")
    assert cam_reads(story) == ["GetRole", "ListAttachedRolePolicies"]  # the requester may: the plan is read
    plan = str(story.message(rid)["blocks"])
    assert "use existing role `LegacyDTS` (`qcs::cam::uin/100000000001:roleName/LegacyDTS`); it must be trusting" in plan
    assert "*2. The role needs*: `QcloudDTSReadOnlyAccess`, `QcloudCDBReadOnlyAccess`" in plan
    for detail in ("not made by dtsbot", "must first attach", "another trust policy", "made by dtsbot for"):
        assert detail not in plan, detail

    details = story.slack.wait_for(lambda: [e for e in story.slack.ephemerals(SOURCE_OWNER)
                                            if "What CAM says of the existing role" in e["text"]], timeout=WAIT)
    assert "its owner must first attach `QcloudCDBReadOnlyAccess`" in details[0]["text"]
    assert "not made by dtsbot" in details[0]["text"]
    for other in (REQUESTER, TARGET_OWNER, STRANGER):
        assert "must first attach" not in said_to(story, other), other

    # the source side consents: the plan may now say what CAM said
    message = story.message(rid)
    assert story.driver.click(SOURCE_OWNER, message, "approve_source").status == 200
    story.slack.wait_for(lambda: "must first attach" in str(story.message(rid)["blocks"]) or None, timeout=WAIT)


def test_external_ids_show_at_most_four_characters(story: Serving) -> None:
    rid = story.open(f"{INLINE} external_id={EXTERNAL_ID}")
    story.approve(rid)
    story.reaches(rid, "running", "ready_to_complete")
    shown = channel_text(story, rid)
    assert f"`…{EXTERNAL_ID[-4:]}`" in shown
    assert EXTERNAL_ID[:4] + "…" not in shown and EXTERNAL_ID[-5:] not in shown

"""Ownership of cloud resources (README.md, "Ownership") through `dtsbot serve`'s wiring: the real Bolt app
over signed HTTP, the scheduler with the real cloud steps, and the Tencent Cloud sandbox. The bot deletes only the
roles it created, never writes to a role a person made, gives each default request its own role, and the last
request that used a shared role releases it, however it ends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.runtime import Runtime, build_runtime
from core import policies
from core.config import Settings, parse_settings
from sandbox.slack.driver import SlackDriver
from sandbox.slack.emulator import SlackEmulator
from sandbox.tencentcloud.server import TencentCloudSandbox
from sandbox.tencentcloud.world import default_world
from sandbox.waiting import eventually
from storage import ownership, repository
from storage.db import session_scope
from tests.bot.conftest import INLINE, REQUESTER, SIGNING_SECRET, SOURCE_OWNER, TARGET_OWNER
from tests.test_plan import ACCOUNTS

SOURCE, TARGET = "100000000001", "100000000002"
WAIT = 60.0  # through the scheduler, the sandbox and Slack's pacing on a loaded machine
ROLE_WRITES = ("CreateRole", "AttachRolePolicy", "DetachRolePolicy", "DeleteRole", "UpdateAssumeRolePolicy")
SECOND = ("source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-src00002 "
          "target_account=analytics target_region=ap-guangzhou target_instance=cdb-dst00002 db_type=percona")
LEGACY_EXTERNAL_ID = "legacy-external-id-0123456789"


@dataclass
class Story:
    """One replica serving Slack with its scheduler, and the people's side of it."""

    runtime: Runtime
    slack: SlackEmulator
    cloud: TencentCloudSandbox
    driver: SlackDriver

    def open(self, text: str) -> str:
        before = len(self.slack.ephemerals(REQUESTER))
        assert self.driver.slash(REQUESTER, text).status == 200
        reply = self.slack.wait_for(lambda: self.slack.ephemerals(REQUESTER)[before:], timeout=WAIT)[0]
        return next(w.rstrip(".") for w in reply["text"].split() if w.startswith("mr-"))

    def message(self, request_id: str) -> dict:
        return self.slack.wait_for(lambda: next(
            (m for m in self.slack.messages() if m["blocks"][0]["text"]["text"] == f"DTS migration {request_id}"),
            None), timeout=WAIT)

    def approve(self, request_id: str) -> None:
        message = self.message(request_id)
        assert self.driver.click(SOURCE_OWNER, message, "approve_source").status == 200
        assert self.driver.click(TARGET_OWNER, message, "approve_target").status == 200

    def state(self, request_id: str) -> str:
        with session_scope(self.runtime.db) as session:
            return repository.get_request(session, request_id).state

    def reaches(self, request_id: str, *states: str) -> str:
        try:
            return eventually(lambda: self.state(request_id) if self.state(request_id) in states else None,
                              timeout=WAIT)
        except AssertionError:
            raise AssertionError(f"{request_id} is {self.state(request_id)}, not {states}:\n"
                                 f"{self.thread_text(request_id)}") from None

    def thread_text(self, request_id: str) -> str:
        return "\n".join(m.get("text", "") for m in self.slack.thread("C0DTSBOT01", self.message(request_id)["ts"]))

    def complete(self, request_id: str) -> None:
        """The target owner clicks Complete once the incremental sync is ready."""
        ready = self.slack.wait_for(lambda: next((r for r in self.slack.thread("C0DTSBOT01", self.message(
            request_id)["ts"]) if any(e.get("action_id") == "complete" for b in r.get("blocks", [])
                                      for e in b.get("elements", []))), None), timeout=WAIT)
        assert self.driver.click(TARGET_OWNER, ready, "complete").status == 200

    def cancel(self, request_id: str) -> None:
        """`/dts-migrate cancel ID`, then the requester confirms."""
        count = len(self.slack.ephemerals(REQUESTER))
        assert self.driver.slash(REQUESTER, f"cancel {request_id}").status == 200
        confirm = self.slack.wait_for(lambda: self.slack.ephemerals(REQUESTER)[count:], timeout=WAIT)[0]
        assert self.driver.click(REQUESTER, confirm, "cancel").status == 200

    def role_writes(self, role_name: str) -> list[str]:
        return [c.action for c in self.cloud.calls.records if c.action in ROLE_WRITES
                and role_name in (c.params.get("RoleName"), c.params.get("AttachRoleName"),
                                  c.params.get("DetachRoleName"))]


def story_settings(slack: SlackEmulator, cloud: TencentCloudSandbox, db_url: str) -> Settings:
    """`dtsbot serve`'s settings on the sandboxes, with logins for two MySQL-family pairs."""
    logins = {f"cdb-{side}0000{n}": {"user": "dts", "password": f"sandbox-db-password-{side}{n}"}
              for side in ("src", "dst") for n in (1, 2)}
    return parse_settings({
        "slack": {"bot_token": slack.token, "signing_secret": SIGNING_SECRET, "channel": "C0DTSBOT01",
                  "api_url": slack.base_url, "port": 0},
        "storage": {"url": db_url}, "scheduler": {"poll_seconds": 0.5},
        "tencentcloud": {"endpoint": cloud.endpoint, "region": "ap-guangzhou"},
        "accounts": ACCOUNTS, "databases": logins,
    }, environ={})


@pytest.fixture
def story(tmp_path) -> Iterator[Story]:
    with SlackEmulator() as slack, TencentCloudSandbox(default_world(speed=100.0)) as cloud:
        settings = story_settings(slack, cloud, f"sqlite:///{tmp_path / 'own.db'}")
        runtime = build_runtime(settings, host="127.0.0.1")
        runtime.start()
        try:
            yield Story(runtime, slack, cloud, SlackDriver(runtime.http.url, SIGNING_SECRET, slack))
        finally:
            runtime.stop()


def hand_made_role(cloud: TencentCloudSandbox, name: str, *attached: str) -> None:
    """A role an owner made in the console: trusting the target root with their external ID, no dtsbot tag."""
    cam = cloud.world.cam(SOURCE)
    role = cam.create_role(name, policies.document(policies.trust_policy(TARGET, LEGACY_EXTERNAL_ID)), "by hand")
    for policy in attached:
        cam.attach_role_policy(cam.policy_by_name(policy), role)


def test_a_hand_made_role_that_fits_is_used_and_survives_the_whole_story(story: Story) -> None:
    mine = {"QcloudCamFullAccess", "QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess", "QcloudRedisReadOnlyAccess"}
    hand_made_role(story.cloud, "LegacyDTS", *sorted(mine))
    document = story.cloud.world.cam(SOURCE).roles["LegacyDTS"].document
    rid = story.open(f"{INLINE} role_name=LegacyDTS external_id={LEGACY_EXTERNAL_ID} migrate_type=full")
    plan = str(story.message(rid)["blocks"])
    assert "use existing role `LegacyDTS`" in plan and "create CAM role" not in plan  # from CAM, at plan time
    story.approve(rid)
    story.reaches(rid, "succeeded")

    role = story.cloud.world.cam(SOURCE).roles["LegacyDTS"]
    assert story.cloud.world.role_policy_names(SOURCE, "LegacyDTS") == mine and role.document == document
    assert story.role_writes("LegacyDTS") == []  # never written to, not even the policies it already had
    thread = eventually(lambda: "left as it is" in story.thread_text(rid) and story.thread_text(rid), timeout=WAIT)
    assert "not made by dtsbot" in thread
    with session_scope(story.runtime.db) as session:
        relations = {(r.relation, r.kind, r.name) for r in ownership.of_request(session, rid)}
    assert relations == {("uses", "role", "LegacyDTS")}  # used, never created or attached by the bot


def test_a_hand_made_role_lacking_a_policy_is_diagnosed_and_not_modified(story: Story) -> None:
    hand_made_role(story.cloud, "LegacyDTS", "QcloudDTSReadOnlyAccess")
    rid = story.open(f"{INLINE} role_name=LegacyDTS external_id={LEGACY_EXTERNAL_ID}")
    assert "its owner must first attach `QcloudCDBReadOnlyAccess`" in str(story.message(rid)["blocks"])
    story.approve(rid)
    story.reaches(rid, "failed")
    thread = eventually(lambda: "was not made by dtsbot and lacks" in story.thread_text(rid) and
                        story.thread_text(rid), timeout=WAIT)
    assert "attaches `QcloudCDBReadOnlyAccess` to role `LegacyDTS`" in thread

    story.cancel(rid)
    story.reaches(rid, "cancelled")
    assert story.role_writes("LegacyDTS") == []
    assert story.cloud.world.role_policy_names(SOURCE, "LegacyDTS") == {"QcloudDTSReadOnlyAccess"}


def test_two_default_requests_from_one_source_account_both_run_with_their_own_roles(story: Story) -> None:
    first, second = story.open(INLINE), story.open(SECOND)
    for rid in (first, second):
        story.approve(rid)
    for rid in (first, second):
        story.reaches(rid, "running", "ready_to_complete")
    roles = story.cloud.world.cam(SOURCE).roles
    assert set(roles) == {f"dtsbot-{first}", f"dtsbot-{second}"}
    assert [roles[f"dtsbot-{rid}"].tags for rid in (first, second)] == [policies.owner_tags(first),
                                                                        policies.owner_tags(second)]


def test_a_shared_role_is_deleted_by_the_last_request_that_used_it(story: Story) -> None:
    """Issue 11, item 3, with a role shared on purpose (same role_name and external_id): B creates and uses the
    role, then fails; A uses it and completes, keeping it for B; B is cancelled and, as its last user, deletes
    it."""
    shared = "role_name=shared-dts external_id=shared-external-id-0123456789"
    failing = INLINE.replace("cdb-src00001", "cdb-zzzz0001").replace("cdb-dst00001", "cdb-dst00002")
    first = story.open(f"{INLINE} {shared} migrate_type=full")
    second = story.open(f"{failing} {shared}")  # passes authorize_source (uses the role), fails the preflight
    story.approve(second)
    story.reaches(second, "failed")
    story.approve(first)
    story.reaches(first, "succeeded")
    assert "shared-dts" in story.cloud.world.cam(SOURCE).roles  # B still used it when A ended
    assert eventually(lambda: f"request {second} still uses role" in story.thread_text(first), timeout=WAIT)

    story.cancel(second)
    story.reaches(second, "cancelled")
    assert story.cloud.world.cam(SOURCE).roles == {}
    writes = story.role_writes("shared-dts")
    assert (writes.count("CreateRole"), writes.count("DeleteRole")) == (1, 1)


def test_a_sub_accounts_grant_goes_when_its_request_ends_though_the_shared_role_stays(story: Story) -> None:
    """Two requests share a role on purpose; A runs as the target sub-account (it needs the sts:AssumeRole
    grant), B as root. A ends while B still holds the role: the role stays for B, A's grant goes at once — it is
    nobody else's, and B's end would not remove it (B runs as root)."""
    shared = "role_name=shared-dts external_id=shared-external-id-0123456789"
    failing = INLINE.replace("cdb-src00001", "cdb-zzzz0001").replace("cdb-dst00001", "cdb-dst00002")
    second = story.open(f"{failing} {shared}")  # root; uses the role, then fails the preflight
    story.approve(second)
    story.reaches(second, "failed")
    first = story.open(f"{INLINE} {shared} migrate_type=full executor=100000000021")
    story.approve(first)
    story.reaches(first, "succeeded")
    target = story.cloud.world.cam("100000000002")
    assert "shared-dts" in story.cloud.world.cam(SOURCE).roles  # kept for B
    assert not [p.name for p in target.policies.values() if p.name.startswith("dtsbot-assume-")], \
        "A's grant outlived A"
    assert not any(target.user_policies.get("100000000021", {}))

    story.cancel(second)
    story.reaches(second, "cancelled")
    assert story.cloud.world.cam(SOURCE).roles == {}


def test_a_request_that_never_used_the_role_does_not_keep_it_open(story: Story) -> None:
    """Issue 11, item 3 as reported: B names A's role with another external ID and fails on the trust; A
    completes and deletes its role (B never used it); B's cancel then has nothing of its own to release."""
    first = story.open(f"{INLINE} role_name=shared-dts external_id=first-external-id-0123456789")
    second = story.open(f"{SECOND} role_name=shared-dts external_id=other-external-id-0123456789")
    story.approve(first)
    story.reaches(first, "ready_to_complete")
    story.approve(second)
    story.reaches(second, "failed")
    assert eventually(lambda: "was made by dtsbot for request" in story.thread_text(second), timeout=WAIT)
    story.complete(first)
    story.reaches(first, "succeeded")
    assert story.cloud.world.cam(SOURCE).roles == {}

    story.cancel(second)
    story.reaches(second, "cancelled")
    assert story.cloud.world.cam(SOURCE).roles == {}
    writes = story.role_writes("shared-dts")
    assert (writes.count("CreateRole"), writes.count("DeleteRole")) == (1, 1)


def test_the_exact_trust_policy_goes_privately_to_the_source_approvers_only(story: Story) -> None:
    """Issue 11, item 7: the fix needs the full external ID, which the channel only ever shows masked."""
    hand_made_role(story.cloud, "LegacyDTS", "QcloudDTSReadOnlyAccess", "QcloudCDBReadOnlyAccess")
    wanted = "wanted-external-id-0123456789"  # the owner's role trusts LEGACY_EXTERNAL_ID instead
    rid = story.open(f"{INLINE} role_name=LegacyDTS external_id={wanted}")
    assert "has another trust policy" in str(story.message(rid)["blocks"])
    story.approve(rid)
    story.reaches(rid, "failed")
    private = story.slack.wait_for(lambda: [e for e in story.slack.ephemerals(SOURCE_OWNER) if wanted in e["text"]],
                                   timeout=WAIT)
    assert '"sts:external_id": "' + wanted + '"' in private[0]["text"]
    assert f"qcs::cam::uin/{TARGET}:root" in private[0]["text"]
    thread = eventually(lambda: "was not made by dtsbot and its trust policy" in story.thread_text(rid) and
                        story.thread_text(rid), timeout=WAIT)
    assert policies.mask(wanted) in thread
    shown = [m.get("text", "") + str(m.get("blocks")) for m in story.slack.messages()]
    shown += [m.get("text", "") + str(m.get("blocks")) for m in story.slack.thread("C0DTSBOT01",
                                                                                 story.message(rid)["ts"])]
    shown += [e["text"] + str(e.get("blocks")) for e in story.slack.ephemerals() if e["user"] != SOURCE_OWNER]
    assert shown and not any(wanted in text for text in shown)
    assert story.role_writes("LegacyDTS") == []

"""Guided mode end to end: the bot `dtsbot serve` runs (real Bolt app, scheduler, SDKs) against the Slack and
Tencent Cloud sandboxes, with a guided source account that holds no keys in app.yaml.

The thread gets the owner's steps (masked external ID); a stranger's *verify* is refused; the owner's *verify*
before the role exists gets the "role not exist" diagnosis and nothing is bought; the owner runs the generated
tccli script (the full one, shown only to them) with their own keys; *verify* then leads to Running; when the
request ends the owner gets the deletion steps, and *Role deleted — check* proves the role is gone. The bot
never calls the cloud as the source account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.demo import APP_YAML, COMMAND, Stage
from core import policies
from sandbox.tencentcloud import tccli
from sandbox.tencentcloud.exceptions import TencentCloudError
from sandbox.waiting import eventually
from storage import repository
from storage.db import session_scope
from storage.models import AuditEntry
from tests.support.workspace import (
    CHANNEL,
    EXECUTOR_UIN,
    REQUESTER,
    SOURCE_OWNER,
    SOURCE_UIN,
    STRANGER,
    TARGET_OWNER,
    TARGET_UIN,
)

SOURCE_KEYS = ("    credentials:\n      secret_id: ${SOURCE_SECRET_ID:-AKIDSANDBOXSOURCE0000000000000001}\n"
               "      secret_key: ${SOURCE_SECRET_KEY:-sandbox-source-secret-key-0001}\n")
REACHED_RUNNING = ("running", "ready_to_complete", "completing", "revoking_access", "succeeded")


def guided_config(directory: Path) -> Path:
    """The shipped app.yaml with the source account guided and its keys removed."""
    text = APP_YAML.read_text()
    assert SOURCE_KEYS in text
    path = directory / "app.yaml"
    path.write_text(text.replace(SOURCE_KEYS, "    access: guided\n", 1))
    return path


@pytest.fixture
def stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    for name in ("SOURCE_SECRET_ID", "SOURCE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    started = Stage(guided_config(tmp_path))
    try:
        started.start()
        yield started
    finally:
        started.stop()


def text_of(message: dict[str, Any]) -> str:
    """All section texts of a message (a long notice spans several sections)."""
    parts = [b["text"]["text"] for b in message.get("blocks", []) if b.get("type") == "section"]
    return "\n".join(parts) or message.get("text", "")


class People:
    """The people of the story, clicking through the Slack driver and reading the channel."""

    def __init__(self, stage: Stage) -> None:
        self.stage, self.slack, self.driver = stage, stage.slack, stage.driver()
        self.request_id = ""

    def request(self) -> Any:
        assert self.stage.runtime is not None
        with session_scope(self.stage.runtime.db) as session:
            return repository.get_request(session, self.request_id)

    def open_and_approve(self, command: str = COMMAND) -> None:
        seen = len(self.slack.ephemerals(REQUESTER))
        assert self.driver.slash(REQUESTER, command).status == 200
        answer = eventually(lambda: self.slack.ephemerals(REQUESTER)[seen:], 30, "the request's confirmation")[0]
        self.request_id = re.search(r"\bmr-[a-z0-9]+", answer["text"]).group(0)
        message = eventually(self.request_message, 30, "the request message")
        self.click(SOURCE_OWNER, message, "approve_source")
        self.click(TARGET_OWNER, self.request_message(), "approve_target")

    def request_message(self) -> dict[str, Any] | None:
        return next((m for m in self.slack.messages(CHANNEL) if self.request_id in m.get("text", "")), None)

    def thread(self) -> list[dict[str, Any]]:
        message = self.request_message()
        return self.slack.thread(CHANNEL, message["ts"]) if message else []

    def notice_with(self, action_id: str, after: int = 0) -> dict[str, Any] | None:
        """The newest thread reply (past the first `after`) that carries the button `action_id`."""
        found = [r for r in self.thread()[after:] if any(e.get("action_id") == action_id
                                                        for b in r.get("blocks", []) for e in b.get("elements", []))]
        return found[-1] if found else None

    def click(self, user: str, message: dict[str, Any], action_id: str) -> dict[str, Any]:
        """`user` clicks; returns the bot's ephemeral answer to them."""
        seen = len(self.slack.ephemerals(user))
        assert self.driver.click(user, message, action_id).status == 200
        return eventually(lambda: self.slack.ephemerals(user)[seen:], 30, f"the answer to {user}")[0]

    def state_is(self, *states: str) -> bool:
        return self.request().state in states


def owner_runs(script: str, endpoint: str) -> list[str]:
    """The source owner pastes the script into Cloud Shell: each call through the real SDK with their keys."""
    keys = ("AKIDSANDBOXSOURCE0000000000000001", "sandbox-source-secret-key-0001")
    return [c.action for c in tccli.run_with_keys(script, endpoint, *keys)]


def test_guided_source_owner_creates_the_role_from_the_steps_and_the_migration_runs(stage: Stage):
    people = People(stage)
    people.open_and_approve()
    steps = eventually(lambda: people.notice_with("guided_verify"), 30, "the owner's steps in the thread")
    text = text_of(steps)
    external_id = people.request().external_id
    assert external_id and external_id not in text, "the channel shows the external ID masked"
    role = people.request().role_name  # the request's own role (no role_name given)
    for part in (f"`{role}`", "qcs::cam::uin/100000000002:root", "QcloudDTSReadOnlyAccess",
                 "QcloudCDBReadOnlyAccess", f"tccli cam CreateRole --RoleName {role}", "tencentcloud_cam_role",
                 "tencentcloud_cam_role_policy_attachment", policies.mask(external_id)):
        assert part in text, part
    assert people.state_is("awaiting_owner")
    assert "Guided: shop-prod's owner does steps 1–2" in text_of(people.request_message())

    refused = people.click(STRANGER, steps, "guided_verify")
    assert "Only the approvers of shop-prod (100000000001)" in refused["text"]
    refused = people.click(TARGET_OWNER, steps, "guided_verify")  # the other side's approver: not theirs to say
    assert "Only the approvers of shop-prod (100000000001)" in refused["text"]
    refused = people.click(STRANGER, steps, "guided_reveal")
    assert "Only the approvers of shop-prod" in refused["text"] and external_id not in text_of(refused)
    assert people.state_is("awaiting_owner")

    # The owner presses verify before making the role: the bot's preflight meets "role not exist".
    replies = len(people.thread())
    people.click(SOURCE_OWNER, steps, "guided_verify")
    again = eventually(lambda: people.notice_with("guided_verify", after=replies), 30, "the diagnosis")
    assert "ResourceNotFound.RoleNotFound" in text_of(again) and "does not exist" in text_of(again)
    assert "Nothing was bought" in text_of(again)
    assert "tccli cam CreateRole" in text_of(again)
    assert people.state_is("awaiting_owner")
    assert not stage.cloud.calls.of("CreateMigrationService")

    full = text_of(people.click(SOURCE_OWNER, again, "guided_reveal"))
    assert external_id in full and '"sts:external_id":"' + external_id in full
    script = re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", full, re.DOTALL).group(1)
    assert owner_runs(script, stage.cloud.endpoint) == ["CreateRole", "AttachRolePolicy", "AttachRolePolicy"]

    people.click(SOURCE_OWNER, again, "guided_verify")
    eventually(lambda: people.state_is(*REACHED_RUNNING), 60, "the migration to run")
    assert len(stage.cloud.calls.of("CreateMigrationService")) == 1

    by_source = [r.action for r in stage.cloud.calls.records if r.caller_uin == SOURCE_UIN]
    assert by_source == ["CreateRole", "AttachRolePolicy", "AttachRolePolicy"], "only the owner's own calls"
    assert stage.cloud.world.cam(SOURCE_UIN).find_role(role) is not None

    # The end: the bot leaves the owner's role alone, gives the deletion steps, and proves the deletion.
    ready = eventually(lambda: people.notice_with("complete"), 60, "ready to complete")
    people.click(TARGET_OWNER, ready, "complete")
    ending = eventually(lambda: people.state_is("succeeded") and people.notice_with("role_deleted_check"), 60,
                        "the deletion steps")
    assert f"tccli cam DeleteRole --RoleName {role}" in text_of(ending) and "terraform destroy" in text_of(ending)
    assert not stage.cloud.calls.of("DeleteRole") and not stage.cloud.calls.of("DetachRolePolicy")
    refused = people.click(STRANGER, ending, "role_deleted_check")
    assert "Only the approvers of shop-prod" in refused["text"]
    still = text_of(people.click(SOURCE_OWNER, ending, "role_deleted_check"))
    assert "can still be assumed" in still
    deletion = re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", text_of(ending), re.DOTALL).group(1)
    assert owner_runs(deletion, stage.cloud.endpoint)[-1] == "DeleteRole"
    closed = people.click(SOURCE_OWNER, ending, "role_deleted_check")
    assert "now answers ResourceNotFound.RoleNotFound (the role does not exist; RequestId " in text_of(closed)
    eventually(lambda: any("The cross-account access is closed" in text_of(r) for r in people.thread()), 30,
               "the proof in the thread")
    by_source = [r.action for r in stage.cloud.calls.records if r.caller_uin == SOURCE_UIN]
    assert set(by_source[3:]) == {"DetachRolePolicy", "DeleteRole"}, "still only the owner's own calls"


def role_checks(stage: Stage) -> list[tuple[str, str | None, str | None]]:
    """(outcome, error code, RequestId) of each *Role deleted — check* in the audit log."""
    assert stage.runtime is not None
    with session_scope(stage.runtime.db) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.step == "role_deleted_check")
                            .order_by(col(AuditEntry.id))).all()
        return [(r.outcome, r.error_code, r.cloud_request_id) for r in rows]


def sts_answers(stage: Stage, code: str, message: str) -> None:
    """STS answers the next AssumeRole with this error (the sandbox's hook, through the real SDK)."""
    def answer(_params: dict[str, Any]) -> None:
        raise TencentCloudError(code, message)
    stage.cloud.hooks.before("AssumeRole", answer, service="sts")


def test_role_deleted_check_proves_nothing_while_the_role_exists_though_the_bots_grant_is_gone(stage: Stage):
    """The issue's scenario: guided source, managed target, a target sub-account executes the task. At the end
    the bot deletes its own sts:AssumeRole grant; the owner has NOT deleted the role. The check asks as the target
    root, whom the role trusts: it still works, so nothing is closed; only STS's "role does not exist" is."""
    people = People(stage)
    people.open_and_approve(f"{COMMAND} executor={EXECUTOR_UIN}")
    steps = eventually(lambda: people.notice_with("guided_verify"), 30, "the owner's steps in the thread")
    full = text_of(people.click(SOURCE_OWNER, steps, "guided_reveal"))
    script = re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", full, re.DOTALL).group(1)
    owner_runs(script, stage.cloud.endpoint)
    people.click(SOURCE_OWNER, steps, "guided_verify")
    ready = eventually(lambda: people.notice_with("complete"), 90, "ready to complete")
    people.click(TARGET_OWNER, ready, "complete")
    ending = eventually(lambda: people.state_is("succeeded") and people.notice_with("role_deleted_check"), 60,
                        "the deletion steps")
    role = people.request().role_name
    target = stage.cloud.world.cam(TARGET_UIN)
    assert not [p for p in target.policies.values() if p.name.startswith("dtsbot-assume-")], "the grant is gone"
    assert stage.cloud.world.cam(SOURCE_UIN).find_role(role) is not None, "the owner has not deleted the role"

    still = text_of(people.click(SOURCE_OWNER, ending, "role_deleted_check"))
    assert "can still be assumed by analytics root: the role is not deleted" in still
    assert role_checks(stage) == [("still_exists", None, None)]
    assumed = stage.cloud.calls.of("AssumeRole")[-1]
    assert (assumed.caller_uin, assumed.outcome) == (TARGET_UIN, "ok"), "asked as the target root"

    denied = "you are not authorized to perform operation (sts:AssumeRole)"
    for code, message in (("AuthFailure.UnauthorizedOperation", denied),
                          ("AuthFailure.SecretIdNotFound", "The SecretId is not found"),
                          ("InternalError.GetRoleError", "get role error")):
        sts_answers(stage, code, message)
        answer = text_of(people.click(SOURCE_OWNER, ending, "role_deleted_check"))
        assert f"answered {code} (RequestId " in answer and "Nothing is proved: the role may still exist." in answer
        assert role_checks(stage)[-1][:2] == ("not_proved", code) and role_checks(stage)[-1][2]
    assert not any("access is closed" in text_of(r) for r in people.thread())

    deletion = re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", text_of(ending), re.DOTALL).group(1)
    assert owner_runs(deletion, stage.cloud.endpoint)[-1] == "DeleteRole"
    sts_answers(stage, "ResourceNotFound.RoleNotFound", "role not found")  # STS's own code (the errors lane's)
    closed = text_of(people.click(SOURCE_OWNER, ending, "role_deleted_check"))
    assert "now answers ResourceNotFound.RoleNotFound (the role does not exist; RequestId " in closed
    outcome, code, request_id = role_checks(stage)[-1]
    assert (outcome, code) == ("ok", "ResourceNotFound.RoleNotFound") and request_id in closed
    eventually(lambda: any("The cross-account access is closed" in text_of(r) for r in people.thread()), 30,
               "the proof in the thread")


def journey_of(people: People) -> str:
    """The request message's step list (its `journey` section)."""
    message = people.request_message() or {}
    return next((b["text"]["text"] for b in message.get("blocks", []) if b.get("block_id") == "journey"), "")


def shows_succeeded(people: People) -> bool:
    """The request message's context line says the request is `succeeded`."""
    message = people.request_message() or {}
    return any("State `succeeded`" in e.get("text", "") for b in message.get("blocks", []) if b["type"] == "context"
               for e in b["elements"])


def test_the_request_message_says_the_access_is_revoked_only_once_the_guided_role_is_proved_gone(stage: Stage):
    """"Closed" only when closed: a guided source's role is the owner's to delete. When the migration succeeds the
    role still trusts the target root, so the request message's step list may not tick *Revoke the cross-account
    access* until *Role deleted — check* proved the role gone (STS: the role does not exist)."""
    people = People(stage)
    people.open_and_approve()
    steps = eventually(lambda: people.notice_with("guided_verify"), 30, "the owner's steps in the thread")
    full = text_of(people.click(SOURCE_OWNER, steps, "guided_reveal"))
    owner_runs(re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", full, re.DOTALL).group(1),
               stage.cloud.endpoint)
    people.click(SOURCE_OWNER, steps, "guided_verify")
    ready = eventually(lambda: people.notice_with("complete"), 90, "ready to complete")
    people.click(TARGET_OWNER, ready, "complete")
    ending = eventually(lambda: people.state_is("succeeded") and people.notice_with("role_deleted_check"), 60,
                        "the deletion steps")
    role = people.request().role_name
    assert stage.cloud.world.cam(SOURCE_UIN).find_role(role) is not None, "the owner has not deleted the role"
    eventually(lambda: shows_succeeded(people), 30, "the message brought up to the end")
    assert "✓ Revoke the cross-account access" not in journey_of(people), journey_of(people)
    assert "Revoke the cross-account access (by the account owner)" in journey_of(people)

    deletion = re.search(r"\*tccli\* \(Cloud Shell\)\n```\n(.*?)\n```", text_of(ending), re.DOTALL).group(1)
    owner_runs(deletion, stage.cloud.endpoint)
    people.click(SOURCE_OWNER, ending, "role_deleted_check")
    eventually(lambda: "✓ Revoke the cross-account access (by the account owner)" in journey_of(people), 30,
               "the message ticks the revoke once it is proved")

"""Who may do what (core/permissions.py, docs/usage.md "Who may do what"): each row of the table, allowed and refused,
through the real Bolt app. Approve, edit and reject rows: test_approve.py, views/test_request_form.py and
views/test_reject_reason.py; the cloud side of a stop: tests/reliability/test_cancel_running.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import validation
from core.permissions import PERMISSIONS, Action
from core.requests import MigrationRequests
from tests.bot.test_requests import put_in_state
from tests.support.commands import INLINE
from tests.support.harness import Bot
from tests.support.workspace import EVIDENCE_IN, GROUP_MEMBER, REQUESTER, SOURCE_OWNER, STRANGER, TARGET_OWNER

USAGE = Path(__file__).resolve().parents[4] / "docs" / "usage.md"
RUNNING = ("running", {})
READY = ("ready_to_complete", {"facts": EVIDENCE_IN})
ACCESS_FAILED = ("failed", {"failed_step": "preflight", "last_error": "AssumeRole denied"})
TASK_FAILED = ("failed", {"failed_step": "configuring", "last_error": "ModifyMigrationJob denied"})
VERIFY_FAILED = ("verify_failed", {"last_error": "check failed"})


def act(bot: Bot, user: str, request_id: str, action_id: str) -> str:
    """Click `action_id` on the request message (Cancel: `/dts-migrate cancel` and its confirmation); the answer."""
    count = len(bot.slack.ephemerals(user))
    if action_id == "cancel":
        bot.driver.slash(user, f"cancel {request_id}")
        confirm = bot.ephemeral_after(user, count)
        bot.driver.click(user, confirm, "cancel")
        return bot.slack.wait_for(lambda: [e["text"] for e in bot.slack.ephemerals(user)
                                           if e["ts"] == confirm["ts"] and e["text"] != confirm["text"]])[0]
    bot.notifier.flush()
    bot.driver.click(user, bot.slack.message(bot.request(request_id).message_ts), action_id)
    return bot.ephemeral_after(user, count)["text"]


@pytest.mark.parametrize(("situation", "action_id", "requester", "user", "goal"), [
    # cancel before any cloud change (and before a task may run): the requester or any approver
    (("requested", {}), "cancel", REQUESTER, REQUESTER, "cancelled"),
    (("requested", {}), "cancel", REQUESTER, SOURCE_OWNER, "cancelled"),
    (("requested", {}), "cancel", REQUESTER, STRANGER, None),
    (VERIFY_FAILED, "cancel", REQUESTER, REQUESTER, "cancelling"),
    # cancel a running task: target approvers, or the requester when also a target approver
    (RUNNING, "cancel", REQUESTER, TARGET_OWNER, "stopping_task"),
    (RUNNING, "cancel", REQUESTER, REQUESTER, None),
    (RUNNING, "cancel", REQUESTER, SOURCE_OWNER, None),
    (RUNNING, "cancel", GROUP_MEMBER, GROUP_MEMBER, "stopping_task"),
    (READY, "cancel", REQUESTER, REQUESTER, None),
    (TASK_FAILED, "cancel", REQUESTER, SOURCE_OWNER, None),  # a failed task step: DTS is asked, so a stop
    (TASK_FAILED, "cancel", REQUESTER, TARGET_OWNER, "stopping_task"),
    (ACCESS_FAILED, "cancel", REQUESTER, REQUESTER, "cancelling"),  # no task: only the access to revoke
    # Complete (the cutover): the same people
    (READY, "complete", REQUESTER, TARGET_OWNER, "completing"),
    (READY, "complete", REQUESTER, REQUESTER, None),
    (READY, "complete", REQUESTER, SOURCE_OWNER, None),
    (READY, "complete", GROUP_MEMBER, GROUP_MEMBER, "completing"),
    # Retry after an access step failed (re-creates access in the source account): source approvers
    (ACCESS_FAILED, "retry", REQUESTER, SOURCE_OWNER, "authorizing_source"),
    (ACCESS_FAILED, "retry", REQUESTER, REQUESTER, None),
    (ACCESS_FAILED, "retry", REQUESTER, TARGET_OWNER, None),
    # Retry of another step, Re-verify: the requester or any approver
    (TASK_FAILED, "retry", REQUESTER, REQUESTER, "configuring"),
    (TASK_FAILED, "retry", REQUESTER, TARGET_OWNER, "configuring"),
    (TASK_FAILED, "retry", REQUESTER, STRANGER, None),
    (VERIFY_FAILED, "reverify", REQUESTER, SOURCE_OWNER, "verifying"),
    (VERIFY_FAILED, "reverify", REQUESTER, REQUESTER, "verifying"),
    (VERIFY_FAILED, "reverify", REQUESTER, STRANGER, None),
])
def test_each_row_is_enforced(bot: Bot, situation: tuple[str, dict], action_id: str, requester: str, user: str,
                              goal: str | None) -> None:
    state, extra = situation
    request_id = bot.create(user=requester)
    bot.posted(request_id)
    if state != "requested":
        put_in_state(bot, request_id, state, **extra)
    answer = act(bot, user, request_id, action_id)
    if goal is None:
        assert answer.startswith(f"{request_id}: Only "), answer
        assert bot.request(request_id).state == state and bot.refusals(request_id) == [(user, action_id)]
    else:
        assert bot.request(request_id).state == goal, answer
        assert bot.refusals(request_id) == []


@pytest.mark.parametrize("top_level", [{"requesters": [REQUESTER, "S0TGTOWNERS"]}])
def test_only_the_configured_requesters_may_open_a_request(bot: Bot) -> None:
    count = len(bot.slack.ephemerals(STRANGER))
    bot.driver.slash(STRANGER, INLINE)
    answer = bot.ephemeral_after(STRANGER, count)["text"]
    assert answer.startswith("Nothing was created. Only the configured requesters may open") and bot.all_requests() == []
    assert bot.create(user=GROUP_MEMBER) and bot.create(INLINE.replace("cdb-dst00001", "cdb-dst00002"))


@pytest.mark.parametrize("account_overrides", [{"requesters": [SOURCE_OWNER]}])
def test_an_accounts_requesters_limit_requests_from_and_into_it(bot: Bot) -> None:
    count = len(bot.slack.ephemerals(REQUESTER))
    bot.driver.slash(REQUESTER, INLINE)
    assert "shop-prod's requesters" in bot.ephemeral_after(REQUESTER, count)["text"]
    assert bot.all_requests() == []
    assert bot.create(user=SOURCE_OWNER)


def test_the_readme_shows_the_table_in_the_code() -> None:
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", USAGE.read_text(), flags=re.MULTILINE)
    table = {Action(name): who for first, who in rows for name in re.findall(r"`([a-z_]+)`", first)
             if name in {a.value for a in Action}}
    assert table == {action: who.value for action, who in PERMISSIONS.items()}


def test_an_edit_cannot_move_a_request_into_an_account_its_requester_may_not_use(bot: Bot) -> None:
    finance = bot.settings.accounts[0].model_copy(update={"name": "finance", "uin": "100000000003",
                                                          "requesters": [SOURCE_OWNER]})
    settings = bot.settings.model_copy(update={"accounts": [*bot.settings.accounts, finance]})
    requests = MigrationRequests(bot.db, settings)
    fields = {**validation.OPTIONAL_DEFAULTS, **dict(pair.split("=", 1) for pair in INLINE.split())}
    assert not requests.open({**fields, "source_account": "finance"}, REQUESTER).ok  # refused outright ...
    opened = requests.open(fields, REQUESTER)
    assert opened.ok and opened.request is not None
    edited = requests.edit(opened.request.id, REQUESTER, {**fields, "source_account": "finance"})
    assert not edited.ok and "finance's requesters" in edited.message  # ... and through an edit
    assert requests.get(opened.request.id).source_account == "shop-prod"

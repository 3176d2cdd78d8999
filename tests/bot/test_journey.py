"""The journey on the request message: the step list, the DTS progress bar with the lag, DTS states in plain
words and their raw names, valid Block Kit within Slack's limits in every state."""

from __future__ import annotations

import pytest

from bot import blocks, journey
from core.plan import plan_for
from core.workflow import State
from sandbox.slack.blockkit import message_errors
from storage.models import MigrationRequest
from tests.bot.test_blocks import request
from tests.support.workspace import bot_settings

SETTINGS = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db")
RUNNING = {"dts_status": "running", "lag_seconds": 3, "dts_step_now": 1, "dts_step_all": 3}


def built(r: MigrationRequest, settings=SETTINGS) -> dict:
    return blocks.request_message(r, plan_for(r, settings), {}, settings)


def step_list(message: dict) -> list[str]:
    found = [b["text"]["text"] for b in message["blocks"] if b.get("block_id") == "journey"]
    return found[0].split("\n") if found else []


def marks(lines: list[str]) -> str:
    return "".join(line[0] for line in lines)


def context(message: dict) -> str:
    return next(b for b in message["blocks"] if b["type"] == "context")["elements"][0]["text"]


@pytest.mark.parametrize("state", list(State))
def test_every_state_renders_valid_block_kit_within_limits(state: State) -> None:
    facts = {**RUNNING, "guided_side": "source", "reject_reason": "no"}
    message = built(request(state=state.value, progress=50, failed_step="preflight", last_error="x" * 5000,
                            facts=facts))
    assert message_errors(message["blocks"]) == []
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"] if b["type"] == "section")
    assert f"State `{state.value}`" in context(message)  # the raw name beside the plain words


def test_the_step_list_follows_the_happy_path_of_a_sub_account_executor() -> None:
    path = ["requested", "approved", "authorizing_source", "granting_subaccount", "preflight", "creating_task",
            "configuring", "verifying", "starting", "running", "ready_to_complete", "completing",
            "revoking_access", "succeeded"]
    seen = [marks(step_list(built(request(state=state, facts=RUNNING)))) for state in path]
    assert seen == [
        "⏳·········", "⏳·········", "✓⏳········", "✓✓⏳·······", "✓✓✓⏳······", "✓✓✓✓⏳·····",
        "✓✓✓✓✓⏳····", "✓✓✓✓✓✓⏳···", "✓✓✓✓✓✓✓⏳··", "✓✓✓✓✓✓✓✓⏳·", "✓✓✓✓✓✓✓✓⏳·", "✓✓✓✓✓✓✓✓⏳·",
        "✓✓✓✓✓✓✓✓✓⏳", "✓✓✓✓✓✓✓✓✓✓"]


def test_a_persons_role_left_open_is_not_ticked_as_revoked() -> None:
    used_as_is = request(state="succeeded", facts={**RUNNING, "role_used": True, "role_owner": None},
                         role_name="LegacyDTS")
    lines = step_list(built(used_as_is))
    assert marks(lines).endswith("✓⚠")
    assert "role `LegacyDTS` was not made by the bot and is left as it is: it still trusts" in lines[-1]
    made_by_the_bot = request(state="succeeded", facts={**RUNNING, "role_used": True, "role_owner": "mr-1"})
    assert marks(step_list(built(made_by_the_bot))).endswith("✓✓")


def test_the_root_account_has_no_grant_step() -> None:
    lines = step_list(built(request(state="preflight", executor="root")))
    assert marks(lines) == "✓✓⏳······"
    assert not any("sub-account" in line for line in lines)


def test_a_failed_step_is_crossed_and_the_rest_not_started() -> None:
    lines = step_list(built(request(state="failed", failed_step="configuring", last_error="boom")))
    assert marks(lines) == "✓✓✓✓✓✗····" and lines[5] == "✗ Configure the DTS task"
    assert marks(step_list(built(request(state="verify_failed")))) == "✓✓✓✓✓✓✗···"


def test_requests_that_left_the_path_show_no_step_list() -> None:
    for state in ("rejected", "expired", "cancelled", "cancelling", "stopping_task"):
        assert step_list(built(request(state=state))) == []
    # a request that failed while cancelling has no step of the journey to cross
    assert step_list(built(request(state="failed", failed_step="cancelling"))) == []


def test_guided_steps_are_marked_and_the_wait_for_the_owner_is_said() -> None:
    guided = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db", access="guided")
    lines = step_list(built(request(state="awaiting_owner", facts={"guided_side": "target"}), guided))
    assert lines[1] == "✓ Source account: CAM role (by the account owner)"
    assert lines[2] == "⏳ Target sub-account: sts:AssumeRole grant (by the account owner): waiting for the account owner"
    lines = step_list(built(request(state="awaiting_owner", facts={"guided_side": "source"}), guided))
    assert marks(lines) == "✓⏳········"


@pytest.mark.parametrize(("facts", "migrate_type", "words"), [
    ({"dts_status": "running", "dts_step_now": 1, "dts_step_all": 3}, "fullAndIncrement", "migrating full data"),
    ({**RUNNING, "dts_step_now": 3}, "fullAndIncrement", "catching up: 3 s behind"),
    ({**RUNNING, "dts_step_now": 3, "lag_seconds": -1}, "fullAndIncrement", "catching up"),
    ({"dts_status": "running", "dts_step_now": 2, "dts_step_all": 2}, "full", "migrating full data"),
    ({"dts_status": "checkPass"}, "full", "verified, starting"),
    ({}, "full", "starting"),
    ({"dts_status": "resumableErr"}, "full", "retrying after an error"),
])
def test_dts_states_in_plain_words(facts: dict, migrate_type: str, words: str) -> None:
    r = request(state="running", progress=30, migrate_type=migrate_type, facts=facts)
    assert journey.dts_words(r) == words
    assert f"⏳ Migrate: {words}" in step_list(built(r))


def test_ready_to_complete_says_so_with_the_lag() -> None:
    r = request(state="ready_to_complete", progress=100, facts={**RUNNING, "dts_status": "readyComplete"})
    assert "⏳ Migrate: ready to complete (catching up: 3 s behind)" in step_list(built(r))
    assert "DTS `readyComplete` · DTS step 1/3" in context(built(r))


def test_progress_is_a_bar_with_the_lag() -> None:
    assert journey.bar(0) == "`░░░░░░░░░░` 0%"
    assert journey.bar(45) == "`▓▓▓▓░░░░░░` 45%"
    assert journey.bar(100) == "`▓▓▓▓▓▓▓▓▓▓` 100%"
    assert journey.bar(140) == journey.bar(100) and journey.bar(None) == journey.bar(0)
    status = next(b for b in built(request(state="running", progress=45, facts={**RUNNING, "dts_step_now": 3}))
                  ["blocks"] if b.get("block_id") == "status")["text"]["text"]
    assert "*Progress:* `▓▓▓▓░░░░░░` 45% · lag 3 s" in status
    unknown = built(request(state="running", progress=45, facts={**RUNNING, "lag_seconds": -1}))
    assert "lag" not in str([b for b in unknown["blocks"] if b.get("block_id") == "status"])


def test_the_raw_dts_status_is_shown_only_while_the_task_migrates() -> None:
    assert "DTS `running`" in context(built(request(state="running", facts=RUNNING)))
    assert "DTS" not in context(built(request(state="revoking_access", facts=RUNNING)))

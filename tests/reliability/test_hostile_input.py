"""Hostile input: hypothesis-generated slash texts and modal submissions (unicode, huge, injection-like,
mention and mrkdwn injection). Nothing answers 5xx or raises; every rejection names the field (or, for text
that cannot be read as fields at all, the token or the text); user text echoed into Slack cannot ping or format.

Cases: `DTSBOT_HOSTILE_CASES` per test when set; else 200 per test in the fast subset and, in the slow run
that CI does, 5,000 slash texts + 5,000 modal submissions (10,000 in all; about 12 ms a case).
"""

from __future__ import annotations

import itertools
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inert import formatting_outside_code, mrkdwn_texts, pings

from bot.blocks import MORE_PROBLEMS
from core import validation
from sandbox.slack.driver import Response
from sandbox.waiting import until_count
from tests.support.commands import inline
from tests.support.errorlog import captured_errors
from tests.support.harness import Bot
from tests.support.workspace import REQUESTER, SOURCE_OWNER

BATCH = 8  # cases sent concurrently per hypothesis example
POOL = ThreadPoolExecutor(BATCH, thread_name_prefix="hostile")
FAST = int(os.environ.get("DTSBOT_HOSTILE_CASES", "200"))
SLOW_SLASH = int(os.environ.get("DTSBOT_HOSTILE_CASES", "5000"))
SLOW_MODAL = int(os.environ.get("DTSBOT_HOSTILE_CASES", "5000"))
HOSTILE = [
    "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U0SRCOWNER>", "<#C0DTSBOT01>", "<!subteam^S0ADMINS>",
    "<https://evil.example|click me>", "*bold*", "_italic_", "~strike~", "`code`", "```block```", "> quote",
    "'; DROP TABLE migration_request; --", "\" OR 1=1 --", "${jndi:ldap://x/a}", "{{7*7}}", "%s%n%x",
    "../../etc/passwd", "\x00", "\u202e", "\u200b", "𝕏𝔶", "🙂", "&amp;", "&lt;", "\n", "\t", '"', "'", "=", "==",
    "cdb-src00001", "cdb-dst00001", "shop-prod", "analytics", "ap-guangzhou", "mysql", "100000000021",
]
KEYS = list(validation.FIELDS) + ["status", "cancel", "help", "Source_Account", "*key*", "<!here>", ""]
piece = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
value = st.lists(piece, max_size=4).map("".join)
pair = st.tuples(st.sampled_from(KEYS), value, st.sampled_from(['{}={}', '{}="{}"', "{}='{}'", "{} = {}"])).map(
    lambda t: t[2].format(t[0], t[1]))
slash_text = st.one_of(
    st.lists(st.one_of(pair, piece), max_size=14).map(" ".join),
    st.tuples(st.sampled_from(["status", "cancel", "STATUS", "list", "help"]), value).map(" ".join),
    st.tuples(st.sampled_from(HOSTILE + ["a"]), st.integers(1, 3000)).map(lambda t: t[0] * t[1]),
    st.tuples(st.text(min_size=1, max_size=8), st.integers(500, 1200)).map(lambda t: t[0] * t[1]),
)
ERROR_PREFIXES = ("Your request has problems", "No request", "Usage:")
WHOLE_TEXT = ("the fields are too long", "could not read the fields", "`")


def _check_reply(bot: Bot, reply: dict) -> None:
    for text in mrkdwn_texts(reply):
        assert pings(text) == [], f"user text pings: {text!r}"
        if text.startswith(ERROR_PREFIXES):
            assert formatting_outside_code(text) == [], f"user text formats: {text!r}"
    text = reply.get("text") or ""
    if text.startswith("Your request has problems"):
        for line in text.split("\n")[1:]:
            if re.fullmatch(r"\(" + re.escape(MORE_PROBLEMS).replace(r"\{count\}", r"\d+") + r"\)", line):
                continue  # the count of rejections that did not fit; every one shown names its field
            item = line.removeprefix("• ")
            named = item.split(":")[0]
            assert named in KNOWN_NAMES or item.startswith(WHOLE_TEXT) or item.endswith(AGAIN) or USERS_KEY in item, \
                f"rejection names no field: {item!r}"


KNOWN_NAMES = set(validation.FIELDS)
USERS_KEY = ": unknown field; allowed: "  # names the key the user typed, then the fields there are
AGAIN = ": given more than once"


def _slash(bot: Bot, texts: list[str]) -> None:
    """Send a batch at once (as a busy channel does), then wait for one answer (reply or form) per text.

    Answers are counted in the workspace without copying it: thousands accumulate over a run, and copying them
    all on every change made the run quadratic."""
    workspace = bot.slack.workspace
    ephemerals, views = len(workspace.ephemerals), len(workspace.views)
    for answer in POOL.map(lambda text: bot.driver.slash(REQUESTER, text), texts):
        assert answer.status == 200, answer
    until_count(lambda: len(workspace.ephemerals) - ephemerals + len(workspace.views) - views, len(texts),
                what="answers to the batch")
    for reply in workspace.snapshot(lambda: workspace.ephemerals[ephemerals:]):
        _check_reply(bot, reply)


def _run_slash_cases(bot: Bot, cases: int) -> None:
    @settings(max_examples=max(1, cases // BATCH), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(slash_text, min_size=BATCH, max_size=BATCH))
    def case(texts: list[str]) -> None:
        _slash(bot, texts)

    with captured_errors() as errors:
        case()
    assert not errors.records, [r.getMessage()[:200] for r in errors.records[:5]]  # short: pytest cannot render them all


def test_hostile_slash_texts(module_bot: Bot) -> None:
    _run_slash_cases(module_bot, FAST)


@pytest.mark.slow
def test_hostile_slash_texts_at_scale(module_bot: Bot) -> None:
    _run_slash_cases(module_bot, SLOW_SLASH)


# -- modal submissions ---------------------------------------------------------------------------------------

SELECTS = ("source_account", "target_account", "source_region", "target_region", "db_type", "migrate_type",
           "write_mode")
TEXTS = tuple(f for f in validation.FIELDS if f not in SELECTS)
forged_option = value.map(lambda v: {"value": {"type": "static_select",
                                               "selected_option": {"text": {"type": "plain_text", "text": "x"},
                                                                   "value": v}}})
submission = st.fixed_dictionaries({}, optional={
    **{name: st.one_of(value, st.none(), value.map(lambda v: ((v or "x") * 3000)[:3000])) for name in TEXTS},
    **{name: forged_option for name in SELECTS},
})


def _run_modal_cases(bot: Bot, cases: int) -> None:
    before = len(bot.slack.views)
    assert bot.driver.slash(REQUESTER, "").status == 200
    view = bot.slack.wait_for(lambda: bot.slack.views[before:])[0]

    @settings(max_examples=max(1, cases // BATCH), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(submission, min_size=BATCH, max_size=BATCH))
    def case(batch: list[dict]) -> None:
        for answer in POOL.map(lambda values: bot.driver.submit_view(REQUESTER, view, values), batch):
            check(answer)

    def check(answer: Response) -> None:
        assert answer.status == 200, answer
        if answer.body:
            assert answer.body["response_action"] == "errors"
            errors = answer.body["errors"]
            assert errors and set(errors) <= set(validation.FIELDS), errors
            for field, message in errors.items():
                assert message.startswith(field + ":"), (field, message)

    with captured_errors() as errors:
        case()
    assert not errors.records, [r.getMessage()[:200] for r in errors.records[:5]]  # short: pytest cannot render them all


def test_hostile_modal_submissions(module_bot: Bot) -> None:
    _run_modal_cases(module_bot, FAST)


@pytest.mark.slow
def test_hostile_modal_submissions_at_scale(module_bot: Bot) -> None:
    _run_modal_cases(module_bot, SLOW_MODAL)


# -- echoes into the channel ---------------------------------------------------------------------------------

@settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(reason=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map(" ".join))
def test_a_reject_reason_is_shown_in_the_channel_without_pinging(module_bot: Bot, reason: str) -> None:
    """Pings only: the reason is prose shown as mrkdwn, so `*bold*` in it still formats (a known gap)."""
    bot = module_bot
    target = f"cdb-rj{next(REJECT_TARGETS):06d}"  # one open request per target instance
    request_id = bot.create(inline(target_instance=target, external_id=f"reject-{abs(hash(reason))}"))
    message = bot.posted(request_id)
    views = len(bot.slack.views)
    assert bot.driver.click(SOURCE_OWNER, message, "reject").status == 200
    modal = bot.slack.wait_for(lambda: bot.slack.views[views:])[0]
    assert bot.driver.submit_view(SOURCE_OWNER, modal, {"reason": reason}).status == 200
    bot.slack.wait_for(lambda: bot.all_requests() and _state(bot, request_id) == "rejected")
    bot.notifier.flush()
    thread = bot.slack.thread("C0DTSBOT01", message["ts"])
    rejected = [m for m in thread if "Rejected" in (m.get("text") or "")]
    assert len(rejected) == 1
    for text in mrkdwn_texts(rejected[0]) + mrkdwn_texts(bot.slack.message(message["ts"])):
        assert pings(text) == [], text


REJECT_TARGETS = itertools.count(1)


def _state(bot: Bot, request_id: str) -> str:
    return next(r.state for r in bot.all_requests() if r.id == request_id)

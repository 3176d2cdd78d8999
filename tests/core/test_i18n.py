"""Two languages: every wrapped msgid has its Chinese translation, every message renders valid Block Kit in both
languages without a missing key, and the channel and each person get the language they should."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from slack_sdk import WebClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException as Error

from bot import blocks, direct_messages, home, modals, user_locale
from core import diagnosis, dts_words, guided, i18n, permissions, validation
from core.approvals import no_groups
from core.config import ConfigError
from core.home import Home
from core.plan import plan_for
from core.workflow import State
from sandbox.slack.blockkit import message_errors, view_errors
from sandbox.slack.emulator import DEFAULT_TOKEN, SlackEmulator
from tests.bot.test_blocks import SETTINGS, request
from tests.support.workspace import bot_settings

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "for_channel": None}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
GUIDED = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db", access="guided")
JOURNEY_FACTS = ({}, {"dts_status": "running", "dts_step_now": 1, "dts_step_all": 3, "lag_seconds": -1},
                 {"dts_status": "running", "dts_step_now": 3, "dts_step_all": 3, "lag_seconds": 3},
                 {"dts_status": "running", "dts_step_now": 3, "dts_step_all": 3, "lag_seconds": -1},
                 *({"dts_status": status, "lag_seconds": 2} for status in dts_words.DTS_STATUS_WORDS))
"""The facts behind every line the journey can show: each DTS status, full data, catching up with and without lag."""


def wrapped_msgids() -> dict[str, str]:
    """Every msgid the code wraps, with where it is (what pybabel extract and scripts/i18n-update see)."""
    found: dict[str, str] = {}
    for package in ("bot", "core", "handlers"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS):
            if isinstance(message, str) and message:
                found.setdefault(message, f"{package}/{filename}:{lineno}")
    return found


def test_every_wrapped_msgid_has_a_chinese_translation() -> None:
    with i18n.catalog_path(i18n.CHINESE).open("rb") as po:
        catalog = read_po(po, locale="zh_CN")
    wrapped = wrapped_msgids()
    assert len(wrapped) > 100  # the extraction sees the code (a wrong path would pass vacuously)
    missing = [f"{where}: {msgid!r}" for msgid, where in wrapped.items()
               if msgid not in catalog or not catalog[msgid].string or catalog[msgid].fuzzy]
    assert missing == [], "run scripts/i18n-update and translate:\n" + "\n".join(missing)
    for msgid in wrapped:  # a translation keeps exactly the placeholders the code fills
        assert set(PLACEHOLDER.findall(catalog[msgid].string)) == set(PLACEHOLDER.findall(msgid)), msgid


class _Missing(NullTranslations):
    """The fallback Babel asks when the catalog lacks a msgid: it remembers the msgid."""

    def __init__(self) -> None:
        super().__init__()
        self.msgids: list[str] = []

    def gettext(self, message: str) -> str:
        self.msgids.append(message)
        return message


@pytest.fixture
def missing() -> Iterator[list[str]]:
    """msgids looked up in Chinese but not found while a test renders."""
    chinese = i18n.translations(i18n.CHINESE)
    recorder, before = _Missing(), chinese._fallback
    chinese._fallback = recorder
    yield recorder.msgids
    chinese._fallback = before


def every_message() -> list[dict]:
    """Every channel message and ephemeral the bot builds, in the current language."""
    built = []
    for state in State:
        r = request(state=state.value, last_error="boom", progress=40,
                    facts={"reject_reason": "no", "dts_attention": "DTS retrying"})
        built.append(blocks.request_message(r, plan_for(r, SETTINGS), {"source": "U0SRCOWNER"}, SETTINGS, ["mr-2"],
                                            ["mr-3"]))
        built.append(blocks.request_message(r, plan_for(r, SETTINGS), {"source": "U0ONE", "target": "U0ONE"},
                                            SETTINGS))
        built.append(blocks.request_status(r, plan_for(r, SETTINGS), {}, SETTINGS))
        for facts in JOURNEY_FACTS:  # the journey: step list, DTS words, bar with the lag, raw states
            r = request(state=state.value, progress=60, failed_step="configuring", facts=facts)
            built.append(blocks.request_message(r, plan_for(r, SETTINGS), {}, SETTINGS))
        r = request(state=state.value, facts={"guided_side": "target"})
        built.append(blocks.request_message(r, plan_for(r, GUIDED), {}, GUIDED))
    for found in ({"role": "dtsbot", "owner": "mr-1", "trust_fits": True}, {"role": "dtsbot", "owner": "mr-1"},
                  {"role": "person", "trust_fits": True, "missing": ["QcloudDTSReadOnlyAccess"]},
                  {"role": "person"}, {"role": "unknown"}):
        r = request(facts={"role_plan": found})
        built.append(blocks.request_message(r, plan_for(r, SETTINGS), {}, SETTINGS))
        built.append(blocks.request_message(r, plan_for(r, SETTINGS, source_approved=True), {}, SETTINGS))
    built.append(blocks.notice("mr-1", {"event": "x", "text": "hi", "detail": "why", "user": "U0SRCOWNER",
                                        "actions": list(blocks.NOTICE_BUTTONS)}))
    built += [blocks.help_message(), blocks.request_list([]), blocks.request_list([request()]),
              blocks.errors_reply([f"field{i}: bad" for i in range(400)]), blocks.reply("ok"),
              blocks.long_reply("steps"), blocks.cancel_confirm(request(state="running")),
              blocks.private_notice(request(), "trust_policy", SETTINGS)[1],
              blocks.private_notice(request(), "role_details", SETTINGS)[1]]
    expires = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    for link in ("https://slack.example/archives/C0DTSBOT01/p1", None):  # the DMs, with and without a permalink
        built += [direct_messages.reminder(request(), side, expires, link) for side in ("source", "target")]
        built.append(direct_messages.expired(request(state="expired"), 72, link))
    return built


def every_text() -> list[str]:
    """The diagnoses of every FAQ and operational error, the guided steps, field errors and refusals."""
    arn = "qcs::cam::uin/100000000001:roleName/DTS-role"
    denied = f"you are not authorized to perform operation (sts:AssumeRole)\nresource ({arn}) has no permission"
    errors = [("InternalError.GetRoleError", "role not exist", {}), ("InternalError.IllegalRole", "", {"role": arn}),
              ("InvalidParameter.OverTimeError", "", {"role": arn}),
              ("InvalidParameter.AccountNotAvaliable", "", {"role": arn}),
              ("InternalError.InternalInnerCommonError", "", {}), ("AuthFailure.UnauthorizedOperation", denied, {}),
              ("AuthFailure.UnauthorizedOperation", denied, {"executor": "100000000021"}),
              ("UnauthorizedOperation", "no", {}), ("AuthFailure.SignatureFailure", "", {"role": arn}),
              ("AuthFailure.SecretIdNotFound", "", {}), ("RequestLimitExceeded", "", {}),
              ("OperationDenied.NotEnoughMoneyError", "", {}), ("InvalidParameter.InstanceNotFound", "", {}),
              ("FailedOperation.StatusInConflict", "", {}), ("ResourceNotFound.JobNotExist", "", {}),
              ("Weird", "", {})]
    texts = [diagnosis.render(diagnosis.diagnose(Error(code, message, "rid"), "preflight", **extra))
             for code, message, extra in errors]
    texts += [diagnosis.check_fix(step) for step in (*diagnosis.CHECK_FIXES, "Unknown")]
    r = request(executor="100000000021")
    for steps in (guided.source_role(r, "ext"), guided.source_role(r, None), guided.source_trust_fix(r, None),
                  guided.source_role_deletion(r), guided.target_grant(r), guided.target_grant_deletion(r)):
        texts.append(guided.render(steps))
    _fields, errors_by_field = validation.validate_request(
        {"source_account": "shop-prod", "target_account": "shop-prod", "source_region": "ap-guangzou",
         "db_type": "redis", "source_instance": "x", "role_name": "dtsbot-x", "external_id": "!", "executor": "1x",
         "migrate_type": "nope", "objects": "a,,b", "colour": "red"}, SETTINGS.accounts)
    texts += list(errors_by_field.values()) + validation.parse_inline('a="b c')[1]
    for action in permissions.Action:
        if action is not permissions.Action.REQUEST:
            texts.append(permissions.refusal(SETTINGS, action, r, "U0STRANGER", no_groups) or "")
    return texts


def every_view() -> list[dict]:
    """Every modal the bot opens, in the current language."""
    waiting = request(state="requested", revision=2)
    full = Home(awaiting=[(waiting, ["source", "target"])], open=[request(state=s.value) for s in State],
                finished=[request(id="mr-done", state="succeeded")])
    busy = Home(awaiting=[(request(id=f"mr-{i}"), ["source"]) for i in range(60)])
    return [modals.request_modal(SETTINGS), modals.reject_modal("mr-1"),
            home.home_view(full, {waiting.id: "https://slack.example/archives/C0DTSBOT01/p1"}, plans(full),
                           "Approved."),
            home.home_view(Home(), {}, {}), home.home_view(busy, {}, plans(busy))]


def plans(view: Home) -> dict:
    """The plan of each request waiting on `view`, as the Home is handed them."""
    return {r.id: plan_for(r, SETTINGS) for r, _sides in view.awaiting}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_renders_valid_block_kit_in_both_languages(language: str, missing: list[str]) -> None:
    with i18n.speaking(language):
        messages, views, texts = every_message(), every_view(), every_text()
    assert all(texts)
    for message in messages:
        assert message_errors(message["blocks"]) == [], message["text"]
    for view in views:
        assert view_errors(view) == []
    assert missing == []
    if language == i18n.CHINESE:
        with i18n.speaking(language):
            help_text = str(blocks.help_message())
        assert "使用说明" in help_text and "How to use" not in help_text


def test_the_journey_home_and_dms_speak_chinese() -> None:
    r = request(state="ready_to_complete", progress=100,
                facts={"dts_status": "readyComplete", "lag_seconds": 3, "dts_step_now": 3, "dts_step_all": 3})
    expires = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    with i18n.speaking(i18n.CHINESE):
        message = str(blocks.request_message(r, plan_for(r, SETTINGS), {}, SETTINGS))
        waiting = Home(awaiting=[(request(), ["source"])])
        view = str(home.home_view(waiting, {}, plans(waiting)))
        empty = str(home.home_view(Home(), {}, {}))
        reminder = direct_messages.reminder(request(), "source", expires, None)
        expired = direct_messages.expired(request(), 72, None)
    assert "⏳ 迁移：可以完成（正在追赶增量：落后 3 秒）" in message and "✓ 双方所有者审批" in message
    assert "*进度：* `▓▓▓▓▓▓▓▓▓▓` 100% · 延迟 3 秒" in message and "状态 `ready_to_complete`" in message
    assert "DTS 迁移" in view and "*等待你审批*" in view and "审批（源账号所有者）" in view
    assert "1. 源账号" in view and "批准第 1 版计划？" in view
    assert "暂无等待你审批的申请。" in empty and "你未结束的申请" in empty and "最近结束" in empty
    assert reminder["text"] == "提醒：mr-blocks 正在等待你审批源账号一侧" and "过期" in str(reminder["blocks"])
    assert expired["text"] == "你的申请 mr-blocks 已过期" and "72 小时" in str(expired["blocks"])
    for english in ("Migrate", "· lag", "Waiting for your approval", "Reminder", "expired"):
        assert english not in message + view + empty + reminder["text"] + expired["text"], english


def test_chinese_request_message_speaks_the_console_terms() -> None:
    r = request()
    with i18n.speaking(i18n.CHINESE):
        text = str(blocks.request_message(r, plan_for(r, SETTINGS), {}, SETTINGS))
    for term in ("源账号", "目标账号", "CAM 角色", "DTS 迁移任务", "子账号", "审批（源账号所有者）", "等待双方审批"):
        assert term in text, term
    assert "Waiting for both approvals" not in text and "Approve (source owner)" not in text


def test_the_channel_language_is_the_default_and_a_person_speaks_over_it() -> None:
    i18n.set_channel_language(i18n.CHINESE)
    assert i18n._("Cancel") == "取消"
    with i18n.speaking(i18n.ENGLISH):
        assert i18n._("Cancel") == "Cancel"
        assert i18n.for_channel("Cancel") == "取消"  # what a listener queues for the channel
    with i18n.speaking("ja-JP"):  # a language dtsbot does not speak: the channel's
        assert i18n._("Cancel") == "取消"


@pytest.mark.parametrize(("slack_locale", "language"), [
    ("en-US", "en"), ("en-GB", "en"), ("zh-CN", "zh-CN"), ("zh-TW", None), ("ja-JP", None), (None, None)])
def test_a_slack_locale_maps_to_a_language_dtsbot_speaks(slack_locale: str | None, language: str | None) -> None:
    assert user_locale.language_of(slack_locale) == language


def test_slack_language_is_validated_naming_the_field() -> None:
    with pytest.raises(ConfigError) as raised:
        bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db", slack={"language": "fr"})
    assert "slack.language" in str(raised.value) and "en, zh-CN" in str(raised.value)
    chinese = bot_settings("http://127.0.0.1:1/api/", "sqlite:///unused.db", slack={"language": "zh-CN"})
    assert chinese.slack.language == "zh-CN" and SETTINGS.slack.language == "en"


def test_the_slack_emulator_answers_users_info_with_the_locale_only_when_asked(slack_with_locales) -> None:
    client = WebClient(token=DEFAULT_TOKEN, base_url=slack_with_locales.base_url)
    assert "locale" not in client.users_info(user="U0SRCOWNER")["user"]  # as Slack: only with include_locale
    assert client.users_info(user="U0SRCOWNER", include_locale=True)["user"]["locale"] == "zh-CN"
    assert client.users_info(user="U0TGTOWNER", include_locale=True)["user"]["locale"] == "en-US"


def test_a_person_reads_their_slack_locale_asked_once_else_the_channel_language(slack_with_locales) -> None:
    client = WebClient(token=DEFAULT_TOKEN, base_url=slack_with_locales.base_url)
    i18n.set_channel_language(i18n.CHINESE)
    assert user_locale.locale_for_user(client, "U0SRCOWNER") == i18n.CHINESE
    assert user_locale.locale_for_user(client, "U0TGTOWNER") == i18n.ENGLISH  # en-US in a zh-CN channel
    assert user_locale.locale_for_user(client, "U0STRANGER") == i18n.CHINESE  # ja-JP: the channel's language
    assert user_locale.locale_for_user(client, "U0NOBODY") == i18n.CHINESE  # users.info fails: the channel's
    asked = len([c for c in slack_with_locales.calls if c.method == "users.info"])
    assert user_locale.locale_for_user(client, "U0TGTOWNER") == i18n.ENGLISH
    assert len([c for c in slack_with_locales.calls if c.method == "users.info"]) == asked  # cached
    assert user_locale.known_locale("U0TGTOWNER") == i18n.ENGLISH and user_locale.known_locale("U0OTHER") is None


@pytest.fixture
def slack_with_locales() -> Iterator[SlackEmulator]:
    users = {"U0SRCOWNER": "Sam Source-Owner", "U0TGTOWNER": "Tara Target-Owner", "U0STRANGER": "Stan Stranger"}
    locales = {"U0SRCOWNER": "zh-CN", "U0STRANGER": "ja-JP"}
    with SlackEmulator(users=users, locales=locales) as emulator:
        yield emulator

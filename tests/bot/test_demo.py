"""`dtsbot demo` as a person runs it (a child process, its stdout read back): the guide's story from the
request to revoked access, each FAQ scenario's diagnosis in the channel, and a clear failure on timeout.
Also the transcript's rendering of Slack messages, unit by unit."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from io import StringIO

import pytest

from bot.progress import Progress
from bot.transcript import plain, render_message
from sandbox.waiting import budget, eventually

NAMES = {"U0SRCOWNER": "Sam Source-Owner", "U0REQUESTER": "Riley Requester"}


def demo(*args: str, story_seconds: float = 240) -> tuple[int, str, str]:
    """Run `dtsbot demo`; its story may take `budget(story_seconds)` on this machine (a --timeout in `args` wins)."""
    story = [] if "--timeout" in args else ["--timeout", str(budget(story_seconds))]
    done = subprocess.run([sys.executable, "-m", "bot.cli", "demo", *story, *args], capture_output=True, text=True,
                          timeout=budget(story_seconds) + budget(60), check=False)
    return done.returncode, done.stdout, done.stderr


def request_id(out: str) -> str:
    """The id of the demo's request, from its message header in the transcript."""
    found = re.search(r"== DTS migration (mr-[a-z0-9]+) ==", out)
    assert found, out
    return found.group(1)


def in_order(text: str, *parts: str) -> None:
    """Every part appears in `text`, each after the previous one."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} missing after position {at} in:\n{text}"
        at = found + len(part)


def test_happy_story_from_request_to_revoked_access():
    code, out, err = demo()
    assert code == 0, out + err
    in_order(
        out,
        "Riley Requester: /dts-migrate source_account=shop-prod source_region=ap-guangzhou "
        "source_instance=cdb-src00001 target_account=analytics",
        "dtsbot → Riley Requester (only visible to you): Request mr-",
        "== DTS migration mr-",
        "[Approve (source owner)]  [Approve (target owner)]  [Reject]  [Edit]",
        "Stan Stranger: clicks [Approve (source owner)]",
        "dtsbot → Stan Stranger (only visible to you): Only the approvers of shop-prod (100000000001) may "
        "approve the source side.",
        "Sam Source-Owner: clicks [Approve (source owner)]",
        "dtsbot → Sam Source-Owner (only visible to you): Approved the source side of mr-",
        "Tara Target-Owner: clicks [Approve (target owner)]",
        "dtsbot → Tara Target-Owner (only visible to you): Approved the target side of mr-",
    )
    role = f"dtsbot-{request_id(out)}"  # each request gets a role of its own
    in_order(
        out,
        f"create CAM role `{role}`",
        f"    ↳ dtsbot:\n      Role `{role}` created in shop-prod (100000000001), trusting analytics root",
        f"Preflight passed: analytics assumed `qcs::cam::uin/100000000001:roleName/{role}`",
        "bought in analytics",
        "Verification of `dts-",
        "started: Running.",
        "is ready to complete",
        "Cutover gate:",  # the evidence list and the consistency check's report come before the cutover
        "✓ Lag 0 s and 0 MB",
        "Consistency check: same — 3 of 3 tables checked, 0 differ (0 rows), 0 skipped.",
        "The cutover gate is open",
        "Tara Target-Owner: clicks [Complete]",
        "Complete of mr-",
        f"Access revoked: role `{role}` deleted in shop-prod.",
    )
    assert "Status: 🎉 Succeeded" in out
    story = out[:out.index("\nSummary\n")]
    card = story[story.rindex("↳ dtsbot:"):]  # the thread's last reply: the migration's summary card
    assert f"Migration record {request_id(out)}: succeeded" in card
    assert "kept until" in card and f"`dtsbot report {request_id(out)}`" in card
    summary = out[out.index("\nSummary\n"):]
    summarised = re.search(r"request +(mr-[a-z0-9]+) \(succeeded\)", summary)
    assert summarised and f"== DTS migration {summarised.group(1)} ==" in out
    job_id = re.search(r"DTS job +(dts-[a-z0-9]+)", summary)
    assert job_id and f"DTS task `{job_id.group(1)}` completed." in out
    assert f"outcome      succeeded; access revoked: role {role} no longer exists in shop-prod" in summary
    for call in ("1 × cam.CreateRole", "1 × cam.DeleteRole", "1 × dts.CreateMigrationService",
                 "1 × dts.StartMigrateJob", "1 × dts.CompleteMigrateJob", "1 × sts.AssumeRole"):
        assert call in summary
    seconds = float(re.search(r"time taken +([0-9.]+) s", summary).group(1))
    assert 0 < seconds < 60
    for secret in ("sandbox-source-secret-key-0001", "sandbox-target-secret-key-0002", "sandbox-signing-secret",
                   "sandbox-source-db-password", "xoxb-sandbox-bot-token"):
        assert secret not in out + err


def test_a_chinese_channel_gets_the_whole_story_in_chinese_and_an_english_reader_english_replies():
    """`slack.language: zh-CN` through the real Bolt app and the Slack emulator: every channel message and notice
    of the happy path is Chinese; the people whose Slack is in Chinese get Chinese replies, the stranger whose
    Slack locale is en-US gets an English one."""
    code, out, err = demo("--language", "zh-CN")
    assert code == 0, out + err
    found = re.search(r"== DTS 迁移 (mr-[a-z0-9]+) ==", out)
    assert found, out
    role = f"dtsbot-{found.group(1)}"
    in_order(
        out,
        "dtsbot → Riley Requester (only visible to you): 申请 mr-",
        "已发到频道等待审批。",
        "申请一次跨账号迁移",
        "执行计划",
        f"1. 源账号 shop-prod（100000000001）：创建 CAM 角色 `{role}`",
        "状态： ⏳ 等待双方审批",
        "[审批（源账号所有者）]  [审批（目标账号所有者）]  [驳回]  [修改]",
        "Stan Stranger: clicks [审批（源账号所有者）]",
        "dtsbot → Stan Stranger (only visible to you): Only the approvers of shop-prod (100000000001) may "
        "approve the source side.",
        "dtsbot → Sam Source-Owner (only visible to you): 已审批 mr-",
        "dtsbot → Tara Target-Owner (only visible to you): 已审批 mr-",
    )
    in_order(
        out,
        "双方所有者均已审批：正在创建源账号角色。",
        f"已在 shop-prod（100000000001）中创建角色 `{role}`，信任 analytics 主账号",
        "预检通过：analytics 已扮演",
        "已在 analytics 购买 DTS 迁移任务",
        "已配置",
        "校验通过。",
        "已启动：运行中。",
        "可以完成：全量数据已迁移",
        "切换闸门：",
        "✓ 延迟 0 秒且 0 MB",
        "一致性校验： same — 已校验 3/3 张表，0 张不一致（0 行），跳过 0 张。",
        "切换闸门已开启",
        "Tara Target-Owner: clicks [完成]",
        "已请求完成 mr-",
        f"访问权限已撤销：已删除 shop-prod 中的角色 `{role}`。",
    )
    in_order(  # the journey on the request message, in Chinese too
        out,
        "⏳ 双方所有者审批\n  · 源账号：CAM 角色",
        "✓ 双方所有者审批\n  ⏳ 源账号：CAM 角色",
        "⏳ 迁移：",
        "进度： `",
        "⏳ 迁移：可以完成（正在追赶增量：落后 ",
        "⏳ 撤销跨账号访问权限",
        "✓ 撤销跨账号访问权限\n  计划版本 1 · 任务 `dts-",
    )
    assert "状态： 🎉 迁移成功" in out and "状态 `succeeded`" in out
    thread = out[out.index("== DTS 迁移"):out.index("\nSummary\n")]
    said = [re.sub(r".*\(only visible to you\): ", "", line) for line in thread.splitlines()
            if "Stan Stranger (only" not in line  # the stranger's reply is English, as asserted above
            and not re.match(r"^(\w[\w -]*: clicks |… |dtsbot \(edited)", line)]  # the demo's own narration
    english = [line for line in said if re.search(r"\b(the|is|and|to|by|Waiting|Approve|created|revoked)\b", line)]
    assert english == [], english  # nothing English from the bot but names, IDs and the stranger's reply


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "change", "diagnosis"), [
    ("wrong-role-name",
     "Sam Source-Owner: (in the CAM console of shop-prod) re-creates role {role} as DTS_role and deletes {role}",
     [("❌ preflight: the role of the account does not exist: qcs::cam::uin/100000000001:roleName/{role} "
       "[ResourceNotFound.RoleNotFound]"),
      ("Why: The Cross-Account ID (the root account ID of the source database) or the Cross-Account Role Name "
       "is not correctly configured"),
      "Fix: Check the source root UIN and the role name"]),
    ("missing-policy",
     "Sam Source-Owner: (in the CAM console of shop-prod) detaches QcloudCDBReadOnlyAccess from {role}",
     ["[InternalError.InternalInnerCommonError]",
      ("Why: The policy of the Tencent Cloud service to which the source database belongs hasn't been granted "
       "to the role."),
      "Fix: Attach the read-only and list policies to the role in the source account"]),
    ("subaccount-no-assumerole",
     ("Tara Target-Owner: (in the CAM console of analytics) detaches dtsbot-assume-100000000001-{role} from "
      "sub-account 100000000021"),
     [("Policy `dtsbot-assume-100000000001-{role}` (sts:AssumeRole on `{role}` of 100000000001) created and "
       "attached to sub-account 100000000021"),
      ("❌ preflight: you are not authorized to perform operation (sts:AssumeRole)\n"
       "      resource (qcs::cam::uin/100000000001:roleName/{role}) has no permission"),
      ("Fix: Use the root account to create the migration task (executor=root), or ask the target root account to "
       "authorize the sub-account with `resource` set to `qcs::cam::uin/100000000001:roleName/{role}`")]),
])
def test_each_faq_scenario_shows_its_diagnosis_and_retry_repairs_it(scenario, change, diagnosis):
    code, out, err = demo("--scenario", scenario)
    assert code == 0, out + err
    role = f"dtsbot-{request_id(out)}"
    change, diagnosis = change.format(role=role), [part.format(role=role) for part in diagnosis]
    in_order(out, "Tara Target-Owner: clicks [Approve (target owner)]", change)
    in_order(out, "Tara Target-Owner: clicks [Approve (target owner)]", *diagnosis, "RequestId:", "[Retry]",
             "Sam Source-Owner: clicks [Retry]", "Preflight passed", "started: Running")
    assert "Status: 🚨 Failed" in out
    summary = out[out.index("\nSummary\n"):]
    assert "outcome      diagnosed in the channel: " in summary and "after Retry the bot repaired the access" in summary
    assert "1 × dts.CreateMigrationService" in summary  # bought only once the repaired chain was proven


def test_a_story_that_does_not_complete_in_time_exits_non_zero_and_says_where_it_stopped():
    code, out, _err = demo("--timeout", "0")
    assert code == 1
    assert "dtsbot demo: the story did not complete: timed out waiting for " in out
    assert "Summary" not in out


def test_message_rendering_shows_names_buttons_and_plain_text():
    message = {"blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "DTS migration mr-1"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "<@U0REQUESTER> asks *twice* &lt;!channel&gt;\n"
                                                                ":white_check_mark: ok `DTS-role`"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "approve_source", "text": {"type": "plain_text",
                                                                        "text": "Approve (source owner)"}},
            {"type": "button", "action_id": "reject", "text": {"type": "plain_text", "text": "Reject"}}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "job `-`"}]},
    ]}
    assert render_message(message, NAMES) == [
        "== DTS migration mr-1 ==", "@Riley Requester asks twice <!channel>", "✅ ok `DTS-role`", "job `-`",
        "[Approve (source owner)]  [Reject]",
    ]
    assert render_message({"text": "plain *fallback*"}, NAMES) == ["plain fallback"]
    assert plain("<!subteam^S0TGT|tgt-owners> and <@U0NOBODY>", NAMES) == "@tgt-owners and @U0NOBODY"


def test_progress_off_a_terminal_prints_each_new_wait_once():
    out = StringIO()
    with Progress(out, tty=False) as progress:
        progress.waiting("approvals")
        progress.waiting("approvals")
        progress.line("a line")
        progress.waiting(None)
        progress.waiting("approvals")
    assert out.getvalue() == "… approvals\na line\n… approvals\n"


def test_progress_on_a_terminal_spins_and_erases_before_lines():
    out = StringIO()
    with Progress(out, tty=True, interval=0.01) as progress:
        progress.waiting("the bot")
        eventually(lambda: "the bot (" in out.getvalue(), 2, "the spinner to show the bot", interval=0.01)
        progress.line("said")
    text = out.getvalue()
    assert re.search(r"\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] the bot \(\d+s\)", text)
    assert "\r\x1b[2Ksaid\n" in text


def test_guided_story_the_source_owner_keeps_their_keys():
    code, out, err = demo("--scenario", "guided")
    assert code == 0, out + err
    in_order(
        out,
        "dtsbot demo — guided mode",
        "Sam Source-Owner: clicks [Approve (source owner)]",
        "shop-prod is guided: its owner creates the role",
        "tccli cam CreateRole --RoleName dtsbot-mr-",
        'resource "tencentcloud_cam_role"',
        "[Role created — verify]",
        "Stan Stranger: clicks [Role created — verify]",
        "Only the approvers of shop-prod (100000000001)",
        "Sam Source-Owner: clicks [Show me the full steps]",
        "Sam Source-Owner: (in Cloud Shell of shop-prod) runs the tccli script from the bot's steps: CreateRole, "
        "AttachRolePolicy, AttachRolePolicy",
        "Sam Source-Owner: clicks [Role created — verify]",
        "Preflight passed: analytics assumed `qcs::cam::uin/100000000001:roleName/dtsbot-mr-",
        "started: Running.",
        "tccli cam DeleteRole --RoleName dtsbot-mr-",
        "runs the deletion script: DetachRolePolicy, DetachRolePolicy, DeleteRole",
        "Sam Source-Owner: clicks [Role deleted — check]",
        "now answers ResourceNotFound.RoleNotFound (the role does not exist; RequestId ",
        "The cross-account access is closed.",
    )
    summary = out[out.index("\nSummary\n"):]
    assert "calls as shop-prod: 6, all 6 the owner's own" in summary
    assert "1 × dts.CreateMigrationService" in summary and "cam.CreateRole" in summary


def test_keep_running_says_a_form_cannot_be_filled_in_the_transcript_and_goes_on():
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo", "--keep-running", "--timeout",
                                str(budget(240))], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        eventually(lambda: any("Type a person's action" in line for line in lines), timeout=240,
                   what="the demo to take typed commands")
        process.stdin.write("U0REQUESTER /dts-migrate\nU0REQUESTER /dts-migrate list\n")
        process.stdin.flush()
        eventually(lambda: any("Forms are not supported in the transcript" in line for line in lines)
                   and any("Riley Requester: /dts-migrate list" in line for line in lines),
                   timeout=30, what="the form notice, then the next command")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=budget(30))
    assert "opens the form “New DTS migration”" in "".join(lines)

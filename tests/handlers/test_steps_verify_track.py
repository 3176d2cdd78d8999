"""Verification that fails (each failed check with its fix), re-verification after a fix, warnings, and the
tracking notices of a running task (on state change and each 25 %, not on every poll)."""

from __future__ import annotations

from stepflow import SOURCE_UIN, apply, run_flow

from core import i18n
from core.diagnosis import CHECK_FIXES
from core.steps import Outcome
from handlers import complete_task, start_task, stop_task, track_task, verify_task


def source_instance(sandbox):
    return sandbox.world.instance(SOURCE_UIN, "ap-guangzhou", "cdb-src00001")


def test_failed_check_then_fix_and_reverify(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["BinlogParamCheck"]
    results = run_flow(request_, clients, until="running")
    assert request_.state == "verify_failed"
    last = results[-1]
    assert last.outcome is Outcome.CHECK_FAILED
    reason = "The source binlog settings do not allow incremental migration (log_bin, binlog_format, ...)."
    assert last.facts["failed_checks"] == [{
        "step": "binlog参数检查", "kind": "failed", "message": reason, "fix": CHECK_FIXES["BinlogParamCheck"],
        "solution": "Set binlog_format=ROW and binlog_row_image=FULL on the source instance, then check again.",
        "help": ["https://cloud.tencent.com/document/product/571/58685"],
        "log": [f"[BinlogParamCheck] {reason}"],
    }]
    assert "binlog_format=ROW" in last.notice
    assert "https://cloud.tencent.com/document/product/571/58685" in last.notice
    assert not sandbox.calls.of("StartMigrateJob")

    # re-verify without fixing: a new check runs (not the old result reported again) and fails again
    run_flow(request_, clients, until="running")
    assert request_.state == "verify_failed"
    assert len(sandbox.calls.of("CreateMigrateCheckJob")) == 2

    source_instance(sandbox).fail_checks = []
    run_flow(request_, clients, until="running")
    assert request_.state == "running"
    assert len(sandbox.calls.of("CreateMigrateCheckJob")) == 3


def test_a_chinese_channel_shows_dts_own_words_as_dts_gave_them(sandbox, clients, request_):
    """The bot's words are Chinese; the check's name, FailureReason, Solution and log are DTS's, untranslated."""
    source_instance(sandbox).fail_checks = ["BinlogParamCheck"]
    i18n.set_channel_language(i18n.CHINESE)  # reset by tests/conftest.py
    last = run_flow(request_, clients, until="running")[-1]
    reason = "The source binlog settings do not allow incremental migration (log_bin, binlog_format, ...)."
    solution = "Set binlog_format=ROW and binlog_row_image=FULL on the source instance, then check again."
    assert f"*binlog参数检查*: {reason}" in last.notice and f"_DTS 建议：_ {solution}" in last.notice
    assert f"[BinlogParamCheck] {reason}" in last.notice
    assert "_处理：_ 在源实例上设置 binlog_format=ROW" in last.notice  # the bot's own fix, translated
    assert last.notice.startswith(f"`{request_.job_id}` 校验未通过。") and "请修复以上问题，然后重新校验。" in last.notice


def test_check_warning_passes_with_the_warning_in_the_notice(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["BinlogParamCheck:warning"]
    results = run_flow(request_, clients, until="starting")
    assert request_.state == "starting"
    passed = next(r for r in results if r.notice and r.notice.startswith("Verification"))
    assert ":warning:" in passed.notice


def test_tracking_notices_on_state_change_and_quarters(slow, request_):
    sandbox, clients = slow
    clock = sandbox.world.clock
    run_flow(request_, clients, until="verifying")
    while (result := verify_task(request_, clients)).outcome is Outcome.WAIT:
        apply(request_, result)
        clock.advance(6)
    assert start_task(request_, clients).outcome is Outcome.DONE

    def track():
        result = track_task(request_, clients)
        apply(request_, result)
        return result

    clock.advance(2.5)  # readyRun -> running
    first = track()
    assert first.outcome is Outcome.WAIT
    assert "*migrating* (`running`)" in first.notice  # plain words, the raw name beside them
    assert (first.facts["dts_step_now"], first.facts["dts_step_all"]) == (1, 3)  # exporting: full data
    assert track().notice is None  # same state, same quarter: quiet
    clock.advance(6)
    assert track().notice is None  # still under 25 %
    clock.advance(6)
    crossed = track()
    assert crossed.notice and f"{request_.progress}%" in crossed.notice and request_.progress >= 25
    clock.advance(20)
    ready = track()
    assert ready.outcome is Outcome.DONE and ready.next_state == "ready_to_complete"
    assert "ready to complete" in ready.notice
    assert (ready.facts["dts_step_now"], ready.facts["dts_step_all"]) == (3, 3)  # incremental sync: catching up

    completing = complete_task(request_, clients)
    assert completing.outcome is Outcome.WAIT
    assert complete_task(request_, clients).outcome is Outcome.WAIT  # completing: no second call
    assert len(sandbox.calls.of("CompleteMigrateJob")) == 1
    clock.advance(4)
    assert complete_task(request_, clients).outcome is Outcome.DONE


def test_stop_task_stops_a_running_task(slow, request_):
    sandbox, clients = slow
    clock = sandbox.world.clock
    run_flow(request_, clients, until="verifying")
    while verify_task(request_, clients).outcome is Outcome.WAIT:
        clock.advance(6)
    start_task(request_, clients)
    clock.advance(3)
    assert stop_task(request_, clients).outcome is Outcome.WAIT
    assert stop_task(request_, clients).outcome is Outcome.WAIT  # stopping
    clock.advance(4)
    done = stop_task(request_, clients)
    assert done.outcome is Outcome.DONE and "canceled" in done.notice
    assert len(sandbox.calls.of("StopMigrateJob")) == 1
    failed = track_task(request_, clients)
    assert failed.outcome is Outcome.FAILED and failed.diagnosis.code == "MigrationStopped"


def test_failed_migration_is_diagnosed(sandbox, clients, request_):
    source_instance(sandbox).fail_checks = ["running"]
    results = run_flow(request_, clients, until="succeeded")
    assert request_.state == "failed"
    assert results[-1].diagnosis.code == "MigrationFailed"
    assert "Fix the source instance" in results[-1].diagnosis.fix

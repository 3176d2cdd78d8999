"""The channel notices the workflow engine queues in the outbox: `{"event", "text", "actions"}` payloads.

One notice per transition, keyed `<request id>:<state>:<event>` (plus `:<round>` after a person's re-verify or
retry started another round), so a step re-run after a crash or on another replica cannot queue it twice.
`actions` are the buttons the notifier renders under the notice: `{"action_id", "text", "value"}`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from core import recovery
from core.diagnosis import render
from core.i18n import N_, _
from core.steps import StepResult
from core.workflow import State, retry_target
from storage.models import MigrationRequest

S = State

RETRY, RETRY_TASK, REVERIFY, COMPLETE, CONTINUE = "retry", "retry_task", "reverify", "complete", "continue"
GUIDED_VERIFY, GRANT_VERIFY, GUIDED_REVEAL, ROLE_DELETED_CHECK = (
    "guided_verify", "grant_verify", "guided_reveal", "role_deleted_check")
_BUTTON_TEXT = {CONTINUE: N_("Continue"), RETRY: N_("Retry"), RETRY_TASK: N_("Retry task"), REVERIFY: N_("Re-verify"), COMPLETE: N_("Complete"), GUIDED_VERIFY: N_("Role created — verify"),
                GRANT_VERIFY: N_("Grant created — verify"), GUIDED_REVEAL: N_("Show me the full steps"),
                ROLE_DELETED_CHECK: N_("Role deleted — check"), "check_data": N_("Check data"),
                "override_gate": N_("Override gate")}

# (state the step ran in, state it moved to) -> event name; the default text when the step gave none.
_EVENTS: dict[tuple[State, State], tuple[str, str]] = {
    (S.APPROVED, S.AUTHORIZING_SOURCE): ("approved", N_("Approved by both owners: creating the source role.")),
    (S.AUTHORIZING_SOURCE, S.GRANTING_SUBACCOUNT): ("role_created", N_("Role created in the source account.")),
    (S.AUTHORIZING_SOURCE, S.PREFLIGHT): ("role_created", N_("Role created in the source account.")),
    (S.GRANTING_SUBACCOUNT, S.PREFLIGHT): ("subaccount_granted", N_("Sub-account granted sts:AssumeRole on the role.")),
    (S.PREFLIGHT, S.CREATING_TASK): ("preflight_passed", N_("Preflight passed: the target can read the source.")),
    (S.CREATING_TASK, S.CONFIGURING): ("task_bought", N_("DTS task bought.")),
    (S.CONFIGURING, S.VERIFYING): ("configured", N_("DTS task configured: verification running.")),
    (S.VERIFYING, S.STARTING): ("verification_passed", N_("Verification passed: starting the migration.")),
    (S.VERIFYING, S.VERIFY_FAILED): ("verification_failed", N_("Verification failed.")),
    (S.STARTING, S.RUNNING): ("running", N_("Running.")),
    (S.RUNNING, S.READY_TO_COMPLETE): ("ready_to_complete", N_("Ready to complete: incremental sync running.")),
    (S.RUNNING, S.REVOKING_ACCESS): ("task_succeeded", N_("Migration succeeded: revoking the cross-account role.")),
    (S.COMPLETING, S.REVOKING_ACCESS): ("task_succeeded", N_("Migration completed: revoking the cross-account role.")),
    (S.REVOKING_ACCESS, S.SUCCEEDED): ("succeeded", N_("Access revoked. Migration succeeded.")),
    (S.RESUMING_TASK, S.RUNNING): ("task_resumed", N_("DTS took the retry: the task runs again.")),
    (S.STOPPING_TASK, S.CANCELLING): ("task_stopped", N_("DTS task stopped: revoking the cross-account role.")),
    (S.CANCELLING, S.CANCELLED): ("cancelled", N_("Access revoked. Request cancelled.")),
    (S.PAUSING, S.PAUSED): ("paused", N_("DTS task paused.")),
    (S.RUNNING, S.PAUSED): ("paused_outside", N_("DTS task paused outside Slack.")),
    (S.PAUSING, S.RUNNING): ("pause_not_taken", N_("The pause was not taken: tracking the task.")),
    (S.CONTINUING, S.RUNNING): ("continued", N_("DTS task runs again.")),
    (S.PAUSED, S.RUNNING): ("continued_outside", N_("DTS task continued outside Slack.")),
    (S.THROTTLING, S.RUNNING): ("throttled", N_("Rate limits applied.")),
}
_ACTIONS = {S.VERIFY_FAILED: [REVERIFY], S.READY_TO_COMPLETE: [COMPLETE], S.FAILED: [RETRY], S.PAUSED: [CONTINUE]}


def notice_key(request: MigrationRequest, state: str, event: str) -> str:
    """The outbox key of one notice; unique per request, state, event and round."""
    round_ = request.facts.round
    return f"{request.id}:{state}:{event}" + (f":{round_}" if round_ else "")


def _payload(request: MigrationRequest, event: str, text: str, actions: list[str]) -> dict[str, Any]:
    return {"event": event, "text": text,
            "actions": [{"action_id": a, "text": _(_BUTTON_TEXT[a]), "value": request.id} for a in actions]}


def transition_notice(request: MigrationRequest, source: State, target: State,
                      result: StepResult) -> tuple[str, dict[str, Any]]:
    """(key, payload) announcing `source → target` after `result`; the step's own text wins when it gave one."""
    if target is S.FAILED:
        return failure_notice(request, source, result)
    event, default = _EVENTS.get((source, target), (target.value, ""))
    text = result.notice or (_(default) if default else _("Now {state}.", state=target.value))
    if target is S.VERIFY_FAILED and not result.notice:
        text = _failed_checks_text(result.facts.get("failed_checks") or [])
    if target is S.RUNNING and request.progress is not None:
        text += " " + _("Progress {percent}%.", percent=request.progress)
    job_id = result.facts.get("job_id") or request.job_id
    if (source, target) == (S.CANCELLING, S.CANCELLED) and job_id:
        text += "\n" + left_task_notice(str(job_id), request.target_account)
    actions = list(result.actions) or _ACTIONS.get(target, [])
    return notice_key(request, source.value, event), _payload(request, event, text, actions)


def left_task_notice(job_id: str, account: str) -> str:
    """The thread's word on the DTS task a cancel ends with (bought, perhaps configured, verified or stopped): the
    bot closes it out (core/closeout.py) instead of leaving it."""
    return _("DTS task `{job_id}` was bought for this request: the bot now isolates it in {account} (it stops "
             "billing) and destroys it, at once when it never ran, else after `dts.retention_days`.",
             job_id=job_id, account=account)


def wait_notice(request: MigrationRequest, state: State, text: str,
                actions: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """(key, payload) of a step's news while it waits (check started, progress crossed a quarter, the cutover gate
    opened: with its *Complete* button)."""
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
    return notice_key(request, state.value, f"progress-{digest}"), _payload(request, "progress", text,
                                                                               list(actions))


def failure_notice(request: MigrationRequest, step: State, result: StepResult) -> tuple[str, dict[str, Any]]:
    """The *failed* notice of `step`: the diagnosis (what, why, fix, RequestId) and a Retry button (*Retry task*
    when DTS stopped migrating); a diagnosis that needs one side's approvers names them (`reach`, rendered by the
    notifier)."""
    text = result.notice or (render(result.diagnosis) if result.diagnosis else _("{step} failed.", step=step.value))
    payload = _payload(request, "failed", text, retry_buttons(request, step, result.facts.get("dts_status")))
    if result.diagnosis is not None and result.diagnosis.reach:
        payload["reach"] = result.diagnosis.reach
    return notice_key(request, step.value, "failed"), payload


def retry_buttons(request: MigrationRequest, failed_step: str | State, dts_status: str | None) -> list[str]:
    """How a failure is retried: *Retry task* when DTS stopped the task in a status ResumeMigrateJob takes, no
    retry when DTS ended it otherwise (only Cancel is left), *Retry* for every other step."""
    if retry_target(failed_step) is not S.RESUMING_TASK:
        return [RETRY]
    return [RETRY_TASK] if recovery.resumable(dts_status or request.facts.dts_status, request.db_type) else []


def _failed_checks_text(checks: list[dict[str, Any]]) -> str:
    lines = [_("Verification failed:")]
    for check in checks:  # the check's name, message and fix are DTS's own words: shown as DTS gave them
        name = check.get("name") or check.get("step") or "check"
        lines.append(_("• *{name}*: {message} — fix: {fix}", name=name, message=check.get("message", ""),
                       fix=check.get("fix", "")))
    return "\n".join(lines)


def error_text(result: StepResult) -> str:
    """`last_error` of a failed request: the diagnosis in one line (what; why; fix; RequestId)."""
    d = result.diagnosis
    if d is None:
        return (result.notice or "failed")[:4000]
    rid = "; RequestId " + d.request_id if d.request_id else ""
    return (_("{what}; {why}; fix: {fix}", what=d.what, why=d.why, fix=d.fix) + rid)[:4000]

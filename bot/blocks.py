"""Block Kit for channel messages: the request message with its plan, thread notices, help, list and status.

Pure functions from domain objects to `{"text", "blocks"}`, built with slack_sdk's models (which validate the
shapes) and kept within Slack's limits. Every piece of text that came from a person or a cloud API goes through
`escape`, so `<!channel>` or `<@U…>` typed into a field is shown, never acted on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import journey
from core import approvals, control, cutover, db_kinds, lag, policies, topology
from core.config import Settings, is_email
from core.i18n import N_, _
from core.notices import retry_buttons
from core.plan import Plan, plan_for
from core.workflow import TASK_MAY_RUN, State
from storage.models import MigrationRequest

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_BUTTON = 75
MAX_FALLBACK = 3000

STATUS = {
    State.REQUESTED: N_(":hourglass_flowing_sand: Waiting for both approvals"),
    State.APPROVED: N_(":white_check_mark: Approved, starting"),
    State.AUTHORIZING_SOURCE: N_(":key: Creating the CAM role in the source account"),
    State.GRANTING_SUBACCOUNT: N_(":key: Granting the target sub-account sts:AssumeRole"),
    State.PREFLIGHT: N_(":mag: Preflight: assuming the role and listing the source instances"),
    State.CREATING_TASK: N_(":shopping_trolley: Buying the DTS task"),
    State.CONFIGURING: N_(":gear: Configuring the DTS task"),
    State.VERIFYING: N_(":mag: Verification running"),
    State.VERIFY_FAILED: N_(":x: Verification failed; fix and re-verify"),
    State.STARTING: N_(":arrow_forward: Starting the migration"),
    State.RUNNING: N_(":arrows_counterclockwise: Running"),
    State.READY_TO_COMPLETE: N_(":checkered_flag: Ready to complete"),
    State.COMPLETING: N_(":checkered_flag: Completing"),
    State.REVOKING_ACCESS: N_(":lock: Revoking cross-account access"),
    State.SUCCEEDED: N_(":tada: Succeeded"),
    State.FAILED: N_(":rotating_light: Failed"),
    State.REJECTED: N_(":no_entry: Rejected"),
    State.STOPPING_TASK: N_(":octagonal_sign: Cancelling: stopping the DTS task before revoking access"),
    State.RESUMING_TASK: N_(":repeat: Retrying the DTS task (ResumeMigrateJob)"),
    State.CANCELLING: N_(":no_entry_sign: Cancelling: revoking access"),
    State.PAUSING: N_(":double_vertical_bar: Pausing the DTS task"),
    State.PAUSED: N_(":double_vertical_bar: Paused"),
    State.CONTINUING: N_(":arrow_forward: Continuing the DTS task"),
    State.THROTTLING: N_(":control_knobs: Changing the DTS task's rate limits"),
    State.CANCELLED: N_(":no_entry_sign: Cancelled"),
    State.EXPIRED: N_(":alarm_clock: Expired (not approved in time)"),
    State.AWAITING_OWNER: N_(":raised_hand: Waiting for the account owner's CAM steps (guided), then verify"),
}
# Buttons shown on the request message, by state: (action_id, text, style)
BUTTONS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    State.REQUESTED: (
        ("approve_source", N_("Approve (source owner)"), "primary"),
        ("approve_target", N_("Approve (target owner)"), "primary"),
        ("reject", N_("Reject"), "danger"),
        ("edit", N_("Edit"), None),
    ),
    State.VERIFY_FAILED: (("reverify", N_("Re-verify"), "primary"), ("cancel", N_("Cancel"), "danger")),
    State.RUNNING: (("pause", N_("Pause"), None), ("throttle", N_("Throttle"), None),
                    ("cancel", N_("Cancel"), "danger")),
    State.RESUMING_TASK: (("cancel", N_("Cancel"), "danger"),),
    State.READY_TO_COMPLETE: (("complete", N_("Complete"), "primary"), ("cancel", N_("Cancel"), "danger")),
    State.PAUSING: (("cancel", N_("Cancel"), "danger"),),
    State.PAUSED: (("continue", N_("Continue"), "primary"), ("cancel", N_("Cancel"), "danger")),
    State.CONTINUING: (("cancel", N_("Cancel"), "danger"),),
    State.THROTTLING: (("cancel", N_("Cancel"), "danger"),),
    State.FAILED: (("retry", N_("Retry"), "primary"), ("cancel", N_("Cancel"), "danger")),
}
TASK_FAILED_BUTTONS = (("retry_task", N_("Retry task"), "primary"), ("cancel", N_("Cancel"), "danger"))
"""A request failed because DTS stopped migrating: its retry resumes the task (target approvers)."""
SIDE_WORDS = {"source": N_("source"), "target": N_("target"), "both": N_("source and target")}
"""A side of the migration, as a reminder or a notice that needs its approvers names it."""
NOTICE_BUTTONS = {"reverify": N_("Re-verify"), "complete": N_("Complete"), "retry": N_("Retry"),
                  "continue": N_("Continue"),
                  "retry_task": N_("Retry task"),
                  "guided_verify": N_("Role created — verify"), "grant_verify": N_("Grant created — verify"),
                  "guided_reveal": N_("Show me the full steps"), "role_deleted_check": N_("Role deleted — check"),
                  "check_data": N_("Check data"), "override_gate": N_("Override gate"),
                  "undo_closeout": N_("Undo close-out")}


def escape(text: object) -> str:
    """Slack's escaping of user text: &, < and > become entities, so nothing in it links or pings."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def verbatim(text: str) -> str:
    """User text that must neither ping nor format (a reject reason): escaped, each line in a code span
    (backticks in it replaced, so it cannot close the span)."""
    lines = [line.strip() for line in str(text).replace("`", "'").splitlines()]
    return "\n".join(f"`{escape(line)}`" for line in lines if line)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user: str) -> str:
    """A user or user-group mention by ID (IDs come from Slack or the validated config, never from text); an
    approver given by e-mail address is shown as the address."""
    if is_email(user):
        return escape(user)
    return f"<!subteam^{user}>" if user.startswith("S") else f"<@{user}>"


def section(text: str, block_id: str | None = None) -> SectionBlock:
    """A mrkdwn section within Slack's 3000 characters."""
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION)), block_id=block_id)


def button(action_id: str, text: str, value: str, style: str | None = None,
           confirm: ConfirmObject | None = None) -> ButtonElement:
    """A button whose label fits Slack's 75 characters."""
    return ButtonElement(text=PlainTextObject(text=clip(text, MAX_BUTTON)), action_id=action_id, value=value,
                         style=style, confirm=confirm)


def render(blocks: Iterable[Block], text: str) -> dict[str, Any]:
    """Validated blocks (at most 50) plus the notification fallback text."""
    dicts = [b.to_dict() for b in blocks]
    if len(dicts) > MAX_BLOCKS:
        dicts = dicts[: MAX_BLOCKS - 1] + [section(_("… (truncated)")).to_dict()]
    return {"text": clip(text, MAX_FALLBACK), "blocks": dicts}


# -- the request message ---------------------------------------------------------------------------------

def approval_line(side: str, approved_by: str | None, approvers: Sequence[str]) -> str:
    """One side's approval status, naming who approved or who may."""
    owner = _("Source owner") if side == "source" else _("Target owner")
    if approved_by:
        return _(":white_check_mark: {owner}: approved by {user}", owner=owner, user=mention(approved_by))
    return _(":hourglass: {owner}: waiting for {users}", owner=owner,
             users=", ".join(mention(a) for a in approvers))


def role_action(plan: Plan, role: str) -> str:
    """Step 1's verb, truthful to the CAM read made with the plan: create, use, or what the owner must fix (the
    last only once the source side approved: core.plan.before_consent)."""
    found = plan.role_found or {}
    kind = found.get("role")
    if kind == "existing":
        return _("use existing role {role}; it must be", role=role)
    if kind == "dtsbot":
        made = _("made by dtsbot for request {owner}", owner=escape(str(found.get("owner"))))
        if found.get("trust_fits"):
            return _("use existing role {role} ({made}, shared),", role=role, made=made)
        return _("⚠️ role {role} exists ({made}) with another trust policy; the request will fail unless it",
                 role=role, made=made)
    if kind == "person":
        if not found.get("trust_fits"):
            return _("⚠️ existing role {role} (not made by dtsbot) has another trust policy: its owner must "
                     "change it, or choose another role_name; it must be", role=role)
        missing = found.get("missing") or []
        if missing:
            return _("use existing role {role} (not made by dtsbot: used read-only, never changed; its owner must "
                     "first attach {policies}),", role=role, policies=", ".join(f"`{m}`" for m in missing))
        return _("use existing role {role} (not made by dtsbot: used read-only, never changed),", role=role)
    if kind == "unknown":
        return _("create CAM role {role} (CAM could not be read now; checked again when the step runs)", role=role)
    return _("create CAM role {role}", role=role)


def plan_text(plan: Plan) -> str:
    """The plan as numbered steps in the guide's words, exact names and ARNs in code spans."""
    steps = role_steps(plan)
    if plan.grant is not None:
        steps.append(_(
            "*3. Target account {account} ({uin})*: create policy `{policy}` allowing `sts:AssumeRole` on "
            "`{resource}` and attach it to sub-account `{subaccount}`", account=escape(plan.target_account),
            uin=plan.target_uin, policy=escape(plan.grant.policy_name), resource=escape(plan.grant.resource),
            subaccount=plan.grant.subaccount_uin))
    task = plan.task
    executor = (_("the root account") if task.executor == "root"
                else _("sub-account {uin}", uin=task.executor))
    steps.append(_(
        "*{number}. DTS task in {account} ({uin})*, run by {executor}: `{engine}` {source_region}/`{source}` → "
        "{target_region}/`{target}`, {migrate_type}, objects `{objects}`, instance class `{instance_class}`; "
        "verify, then start", number=len(steps) + 1, account=escape(plan.target_account), uin=plan.target_uin,
        executor=executor, engine=task.database_type, source_region=task.source_region,
        source=task.source_instance, target_region=task.target_region, target=task.target_instance,
        migrate_type=task.migrate_type, objects=escape(task.objects), instance_class=task.instance_class))
    if task.write_mode:
        steps[-1] += " " + _("Redis write mode `{mode}`: {meaning} (always sent: left unset, DTS would overwrite).",
                             mode=task.write_mode, meaning=_(topology.WRITE_MODES[task.write_mode]))
    if task.read_only_target:
        steps[-1] += " " + _("The target is read-only while DTS migrates (`IsDstReadOnly`).")
    if task.start_at:
        steps.append(_(":calendar: DTS starts the task at {at} (`RunMode` timed, `ExpectRunTime`).",
                       at=escape(task.start_at)))
    if task.cutover_at:
        steps.append(_(":calendar: Cutover window: *Complete* waits for {at}; the approvers are reminded before it.",
                       at=escape(task.cutover_at)))
    steps.append(_("After an error DTS retries the task by itself for up to {minutes} minutes "
                   "(`AutoRetryTimeRangeMinutes`); then a target approver decides with *Retry task*.",
                   minutes=task.auto_retry_minutes) if task.auto_retry_minutes else
                 _("DTS does not retry an error by itself (`AutoRetryTimeRangeMinutes` 0): a target approver "
                   "decides with *Retry task*."))
    if plan.allowlisting_note:
        steps.append(f":warning: {escape(plan.allowlisting_note)}")
    steps += [f":warning: {escape(note)}" for note in plan.scope_notes]
    return "\n".join(steps)


def role_steps(plan: Plan) -> list[str]:
    """Steps 1 and 2 of the plan: the role in the source account and its policies."""
    role = f"`{escape(plan.role_name)}` (`{escape(plan.role_arn)}`)"
    trusting = _("trusting `{principal}`, external ID `{external_id}`", principal=plan.trusted_principal,
                 external_id=escape(plan.external_id_masked))
    policies_ = ", ".join(f"`{p}`" for p in plan.policies)
    step = _("*1. Source account {account} ({uin})*: {action} {trusting}", account=escape(plan.source_account),
             uin=plan.source_uin, action=role_action(plan, role), trusting=trusting)
    kind = (plan.role_found or {}).get("role")
    if kind == "person":
        return [step, _("*2. The role must already have* (the bot never changes a role it did not create): "
                        "{policies}", policies=policies_)]
    if kind == "existing":
        return [step, _("*2. The role needs*: {policies}", policies=policies_)]
    return [step, _("*2. Attach to the role*: {policies}", policies=policies_)]


def limits_note(request: MigrationRequest, settings: Settings) -> str:
    """The rate limits the task is configured with (`accounts[].rate_limit`), or ""."""
    limits = control.configured_limits(settings, request.source_account, request.target_account)
    if not limits:
        return ""
    shown = ", ".join(f"{name} {value}" for name, value in limits.items())
    return "\n" + _(":control_knobs: Rate limits (`MigrateOption.RateLimit`, from the accounts' `rate_limit`): "
                    "{limits}; *Throttle* changes them while the task runs.", limits=shown)


def guided_note(request: MigrationRequest, settings: Settings) -> str:
    """Which CAM steps of the plan an owner does by hand (accounts with `access: guided`), or ""."""
    by_hand = guided_steps(request, settings)
    notes = []
    if "source_role" in by_hand:
        notes.append(_("{account}'s owner does steps 1–2 from the bot's instructions",
                       account=escape(request.source_account)))
    if "grant" in by_hand:
        notes.append(_("{account}'s owner does the sub-account grant", account=escape(request.target_account)))
    if not notes:
        return ""
    return "\n" + _(":raised_hand: Guided: {notes} (the bot holds no CAM keys there), then presses verify.",
                    notes="; ".join(notes))


def guided_steps(request: MigrationRequest, settings: Settings) -> frozenset[str]:
    """Keys of the journey steps an account owner does by hand (`access: guided`)."""
    keys = set()
    if settings.account(request.source_account).access == "guided":
        keys |= {"source_role", "revoke"}  # the owner makes the role and deletes it
    if request.executor != "root" and settings.account(request.target_account).access == "guided":
        keys.add("grant")
    return frozenset(keys)


def request_message(request: MigrationRequest, plan: Plan, approved_by: Mapping[str, str],
                    settings: Settings, sharing_source: Sequence[str] = (),
                    writing_source: Sequence[str] = ()) -> dict[str, Any]:
    """The top-level request message: who asks for what, the plan, the status line and the buttons.

    `sharing_source` / `writing_source`: other unfinished requests reading the same source instance / migrating
    into it (core.holds), warned about in the plan.
    """
    status = state_label(request.state)
    lines = [_("*Status:* {status}", status=status)]
    if request.state == State.REQUESTED:
        for side, account in (("source", request.source_account), ("target", request.target_account)):
            lines.append(approval_line(side, approved_by.get(side), waiting_for(side, account, approved_by, settings)))
    if approvals.one_person(approved_by):  # allowed by approvals.same_person_both_sides: said for as long as it shows
        lines.append(_(":bust_in_silhouette: *Approved by one person for both accounts* "
                       "(`approvals.same_person_both_sides`)"))
    if request.last_error and request.state in (State.FAILED, State.VERIFY_FAILED):
        lines.append(_("*Last error:* {error}", error=escape(request.last_error)))
    if request.progress is not None and State(request.state) in journey.JOURNEY[journey.MIGRATE].states:
        lines.append(_("*Progress:* {bar}{lag}", bar=journey.bar(request.progress), lag=journey.lag(request)))
    if request.state in (State.RUNNING, State.READY_TO_COMPLETE) and lag.history_line(request.facts):
        lines.append(lag.history_line(request.facts))
    if request.state == State.READY_TO_COMPLETE and request.facts.cutover_evidence:
        lines.append(_("*Cutover gate:*") + "\n" + "\n".join(cutover.evidence_lines(request.facts)))
    if request.state in (State.RUNNING, State.PAUSED) and request.facts.dts_attention:
        lines.append(escape(request.facts.dts_attention))  # DTS retrying or paused (track_task)
    if request.state == State.REJECTED and request.facts.reject_reason:
        lines.append(_("*Reason:* {reason}", reason=verbatim(request.facts.reject_reason)))
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(_("DTS migration {id}", id=request.id), 150))),
        section(
            _("{requester} requests a cross-account migration\n"
              "*Source:* {source_account} ({source_uin}) · {source_region} · `{source_instance}`\n"
              "*Target:* {target_account} ({target_uin}) · {target_region} · `{target_instance}`\n"
              "*Engine:* {engine} · *Migrate type:* {migrate_type} · *Objects:* `{objects}` · *Executor:* {executor}",
              requester=mention(request.requester), source_account=escape(request.source_account),
              source_uin=request.source_uin, source_region=request.source_region,
              source_instance=escape(request.source_instance), target_account=escape(request.target_account),
              target_uin=request.target_uin, target_region=request.target_region,
              target_instance=escape(request.target_instance), engine=plan.task.engine_label,
              migrate_type=request.migrate_type, objects=escape(request.objects), executor=escape(request.executor)),
            block_id="summary",
        ),
        section(_("*Plan*") + "\n" + plan_text(plan) + limits_note(request, settings)
                + source_warning(request, sharing_source, writing_source) + guided_note(request, settings),
                block_id="plan"),
        section("\n".join(lines), block_id="status"),
    ]
    step_list = journey.steps(request, guided_steps(request, settings))
    if step_list:
        blocks.append(section("\n".join(step_list), block_id="journey"))
    value = f"{request.id}:{request.revision}"
    buttons = [button(a, _(t), value, s, DIALOGS[a](request) if a in DIALOGS else None)
               for a, t, s in request_buttons(request, settings)]
    if buttons:
        blocks.append(ActionsBlock(block_id="request_actions", elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=_("Plan revision {revision} · job `{job_id}`", revision=request.revision,
               job_id=escape(request.job_id or "-")) + f" · {escape(journey.raw_states(request))}")]))
    return render(blocks, _("DTS migration {id}: {status}", id=request.id, status=status))


def request_buttons(request: MigrationRequest,
                    settings: Settings | None = None) -> tuple[tuple[str, str, str | None], ...]:
    """The request message's buttons by state; a request failed because DTS stopped migrating gets the retry
    `notices.retry_buttons` gives it (*Retry task*, or none when DTS cannot resume the task) and Cancel; a ready
    request offers *Complete* only through the cutover gate (core.cutover), else *Override gate*."""
    if request.state == State.READY_TO_COMPLETE and settings is not None:
        offered = cutover.gate_actions(request.facts, settings)
        check = ("check_data",) if settings.cutover.compare != "off" and "check_data" not in offered else ()
        return tuple((a, NOTICE_BUTTONS[a], "primary" if a == "complete" else None) for a in (*offered, *check)) \
            + (("cancel", N_("Cancel"), "danger"),)
    if request.state == State.FAILED and request.failed_step:
        retry = retry_buttons(request, request.failed_step, None)
        if retry != ["retry"]:
            return tuple(b for b in TASK_FAILED_BUTTONS if b[0] in (*retry, "cancel"))
    return BUTTONS.get(State(request.state), ())


def waiting_for(side: str, account: str, approved_by: Mapping[str, str], settings: Settings) -> list[str]:
    """The approvers a side waits for: not whoever approved the other side (core.approvals.two_person_refusal),
    unless that leaves none to name."""
    approvers = settings.account(account).approvers
    other = approved_by.get(approvals.other_side(side))
    if other is None or settings.approvals.same_person_both_sides:
        return approvers
    return [a for a in approvers if a != other] or approvers


def state_label(state: str) -> str:
    """A request state as people read it (emoji and words), in the current language."""
    return _(STATUS[State(state)]) if state in STATUS else state


def source_warning(request: MigrationRequest, sharing_source: Sequence[str],
                   writing_source: Sequence[str] = ()) -> str:
    """Plan lines when other unfinished requests migrate into this one's source instance (it would copy data still
    being written) or read it too (it can be legitimate)."""
    lines = []
    if writing_source:
        lines.append(_(":warning: *Source still being written:* `{instance}` is the target of {others} (still "
                       "open): this migration would copy data that is still being migrated into it. Wait until "
                       "{others} ends, unless that is meant.", instance=escape(request.source_instance),
                       others=", ".join(writing_source)))
    if sharing_source:
        lines.append(_(":warning: *Same source:* `{instance}` is also the source of {others} (still open). Make "
                       "sure both migrations are meant.", instance=escape(request.source_instance),
                       others=", ".join(sharing_source)))
    return "".join("\n" + line for line in lines)


# -- thread notices and ephemeral replies ----------------------------------------------------------------

def notice(request_id: str, payload: Mapping[str, Any], needed: Sequence[str] = ()) -> dict[str, Any]:
    """A thread reply from an outbox payload `{"event", "text", "detail"?, "user"?, "actions"?, "reach"?}`.

    `text` is escaped (it may carry the bot's own formatting); `detail` is a person's words, shown verbatim;
    `needed`: the approvers of the side the payload's `reach` names (Slack user IDs), mentioned under it.
    """
    text = escape(payload.get("text") or payload.get("event", "update"))
    if payload.get("detail"):
        text += "\n" + verbatim(payload["detail"])
    user = payload.get("user")
    line = f"{text} ({mention(user)})" if isinstance(user, str) and user[:1] in "UW" else text
    if needed:
        side = _(SIDE_WORDS.get(str(payload.get("reach")), SIDE_WORDS["target"]))
        line += "\n" + _(":bell: {people}: this needs you, as approvers of the {side} account.",
                         people=", ".join(mention(u) for u in needed), side=side)
    blocks: list[Block] = [section(chunk) for chunk in sections(line)]
    # actions: action ids, or the engine's {"action_id", "text", "value"}; only the known buttons are drawn
    ids = [a.get("action_id") if isinstance(a, Mapping) else a for a in payload.get("actions", [])]
    buttons = [button(a, _(NOTICE_BUTTONS[a]), request_id, "primary") for a in ids if a in NOTICE_BUTTONS]
    if buttons:
        blocks.append(ActionsBlock(block_id="notice_actions", elements=buttons))
    return render(blocks, line)


def sections(text: str, limit: int = MAX_SECTION - 8) -> list[str]:
    """Long mrkdwn (guided steps with code blocks) cut at line ends into sections of Slack's size; a code block
    cut in two is closed and reopened, so each section renders on its own."""
    chunks: list[str] = []
    lines: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if lines and sum(len(x) + 1 for x in lines) + len(line) > limit:
            chunks.append("\n".join(lines + (["```"] if fenced else [])))
            lines = ["```"] if fenced else []
        lines.append(line)
        fenced ^= line.count("```") % 2 == 1
    chunks.append("\n".join(lines))
    return chunks


def long_reply(text: str) -> dict[str, Any]:
    """An ephemeral answer that may be longer than one section (guided steps); the whole text is escaped."""
    return render([section(chunk) for chunk in sections(escape(text))], escape(text))


def reply(text: str) -> dict[str, Any]:
    """An ephemeral answer to one person; the whole text is escaped."""
    return render([section(escape(text))], escape(text))


ERRORS_BUDGET = 2800  # a section holds 3000 characters
MORE_PROBLEMS = N_("{count} more problems not shown")


def errors_reply(errors: Iterable[str]) -> dict[str, Any]:
    """The ephemeral answer to an invalid inline request: one bullet per bad field with what is allowed."""
    items = [escape(e) for e in errors]
    text = _("Your request has problems, nothing was created:")
    for shown, item in enumerate(items):
        if len(text) + len(item) > ERRORS_BUDGET:  # whole items only: a clipped one would name no field
            text += "\n(" + _(MORE_PROBLEMS, count=len(items) - shown) + ")"
            break
        text += f"\n• {item}"
    return render([section(text)], text)


def approve_dialog(request: MigrationRequest, side: str) -> ConfirmObject:
    """Slack's confirmation dialog in front of an approve button away from the channel's plan (the App Home): it
    names the plan revision the approval binds to."""
    question = {"source": N_("Approve the source side of {id}?"), "target": N_("Approve the target side of {id}?")}
    return ConfirmObject(
        title=PlainTextObject(text=clip(_("Approve plan revision {revision}?", revision=request.revision), 100)),
        text=MarkdownTextObject(text=_(question[side], id=request.id) + " " + _(
            "You approve plan revision {revision} exactly as shown above it; a later edit needs a new approval.",
            revision=request.revision)),
        confirm=PlainTextObject(text=_("Approve revision {revision}", revision=request.revision)),
        deny=PlainTextObject(text=_("Not now")), style="primary",
    )


def cancel_dialog(request: MigrationRequest) -> ConfirmObject:
    """Slack's confirmation dialog in front of every Cancel button; it says when a running task is stopped."""
    stops = request.state in TASK_MAY_RUN or request.state == State.FAILED
    what = (_("its DTS task is stopped (if it runs), then the cross-account access is revoked") if stops
            else _("nothing more is done in the cloud and any access created is revoked"))
    return ConfirmObject(
        title=PlainTextObject(text=_("Cancel this migration?")),
        text=MarkdownTextObject(text=_("{id} ({state}) will be cancelled: {what}. This cannot be undone.",
                                       id=request.id, state=request.state, what=what)),
        confirm=PlainTextObject(text=_("Cancel it")), deny=PlainTextObject(text=_("Keep it")), style="danger",
    )


def pause_dialog(request: MigrationRequest) -> ConfirmObject:
    """Slack's confirmation dialog in front of Pause: it warns when DTS says the full export would start over
    (DumperResumeCtrl `no`, as last read)."""
    resume = request.facts.dumper_resume
    if resume == "no":
        what = _(":warning: DTS says the full export cannot resume from a checkpoint now (DumperResumeCtrl `no`): "
                 "after a pause it *starts over*.")
    elif resume == "yes":
        what = _("DTS says the task resumes where it stopped (DumperResumeCtrl `yes`).")
    else:
        what = _("DTS has not said yet whether the full export would resume or start over; the thread says once "
                 "paused.")
    return ConfirmObject(
        title=PlainTextObject(text=_("Pause this migration?")),
        text=MarkdownTextObject(text=_("{id}: DTS pauses the task until someone presses Continue. {what}",
                                       id=request.id, what=what)),
        confirm=PlainTextObject(text=_("Pause it")), deny=PlainTextObject(text=_("Keep it running")),
        style="danger" if resume == "no" else "primary",
    )


DIALOGS = {"cancel": cancel_dialog, "pause": pause_dialog}
"""The request message's buttons that ask before they act."""


def cancel_confirm(request: MigrationRequest) -> dict[str, Any]:
    """Ephemeral: a Cancel button behind Slack's confirmation dialog."""
    confirm = cancel_dialog(request)
    blocks = [
        section(_("Cancel *{id}* ({source} → {target}, now {state})?", id=request.id,
                  source=escape(request.source_instance), target=escape(request.target_instance),
                  state=request.state)),
        ActionsBlock(block_id="cancel_actions",
                     elements=[button("cancel", _("Cancel {id}", id=request.id), request.id, "danger", confirm)]),
    ]
    return render(blocks, _("Cancel {id}?", id=request.id))


HELP = N_(
    "*/dts-migrate* runs a cross-account Tencent Cloud DTS migration after both account owners approve.\n"
    "• `/dts-migrate` opens the request form\n"
    "• `/dts-migrate source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-ab12cd34 "
    "target_account=analytics target_region=ap-guangzhou target_instance=cdb-ef56gh78 db_type=mysql` "
    "creates a request at once (optional: role_name= external_id= executor= migrate_type= objects=, and for "
    "Redis and Tendis write_mode=normal|overwrite|clearData, default normal: the target must be empty); "
    "quote values with spaces\n"
    "• `/dts-migrate list` open requests · `status ID` one request · `cancel ID` cancel one · `help` this text"
)


def help_message(experimental: Sequence[str] = ()) -> dict[str, Any]:
    """The help text, with the engines a request may name (the guide's, and dts.experimental_engines)."""
    guide = ", ".join(db_kinds.GUIDE_ENGINES)
    engines = _("Engines (Tencent's cross-account guide): {engines}", engines=guide)
    if experimental:
        engines += " · " + _("not covered by the guide, enabled here: {engines}", engines=", ".join(experimental))
    cutover = _("The cutover (optional, ISO 8601 times with their zone): `cutover_at=2026-12-07T22:00+08:00` the agreed "
                "window, `start_at=…` a timed start, `read_only_target=yes` (MySQL)")
    return render([section(_(HELP) + "\n• " + cutover + "\n• " + engines)], _("How to use /dts-migrate"))


def request_list(requests: Sequence[MigrationRequest]) -> dict[str, Any]:
    """Open requests, newest first, one line each."""
    if not requests:
        return render([section(_("No open migration requests."))], _("No open migration requests."))
    lines = [
        _("• *{id}* {status} · {source_account} `{source}` → {target_account} `{target}` · by {requester}",
          id=r.id, status=state_label(r.state), source_account=escape(r.source_account),
          source=escape(r.source_instance), target_account=escape(r.target_account),
          target=escape(r.target_instance), requester=mention(r.requester))
        for r in requests
    ]
    blocks = [section(_("*Open migration requests*"))] + [section("\n".join(lines[i:i + 20]))
                                                         for i in range(0, len(lines), 20)]
    return render(blocks, _("{count} open migration requests", count=len(requests)))


def request_status(request: MigrationRequest, plan: Plan, approved_by: Mapping[str, str],
                   settings: Settings, sharing_source: Sequence[str] = (),
                   writing_source: Sequence[str] = ()) -> dict[str, Any]:
    """The request message without its buttons, for `/dts-migrate status ID`."""
    message = request_message(request, plan, approved_by, settings, sharing_source, writing_source)
    message["blocks"] = [b for b in message["blocks"] if b["type"] != "actions"]
    return message


PRIVATE_NOTICES = {"trust_policy": "source", "role_details": "source"}
"""Private notices by event, and whose approvers see them: the exact trust policy a fix needs; what CAM said of
an existing role (its trust policy, its policies, who made it) while the channel's plan says only "use existing"."""


def private_notice_side(event: str) -> str:
    """Whose approvers see the private notice `event`."""
    if event not in PRIVATE_NOTICES:
        raise ValueError(f"unknown private notice {event!r}")
    return PRIVATE_NOTICES[event]


def private_notice(request: MigrationRequest, event: str, settings: Settings) -> tuple[str, dict[str, Any]]:
    """(side, message) of a private notice, for that side's approvers only."""
    side = private_notice_side(event)
    if event == "role_details":
        text = _("Only the approvers of {account} see this. What CAM says of the existing role request {id} names "
                 "(the channel sees only \"use existing role\" until the source side approves):",
                 account=escape(request.source_account), id=request.id)
        text += "\n" + "\n".join(role_steps(plan_for(request, settings, source_approved=True)))
        return side, render([section(text)], text)
    document = json.dumps(policies.trust_policy(request.target_uin, request.external_id), indent=2)
    text = _("Only the approvers of {account} see this. Request {id} can use role `{role}` only with exactly "
             "this trust policy (it holds the request's external ID; do not paste it in the channel):",
             account=request.source_account, id=request.id, role=request.role_name) + f"\n```{document}```"
    return side, render([section(text)], text)

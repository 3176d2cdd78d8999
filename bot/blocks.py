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
from core import policies
from core.config import Settings, is_email
from core.plan import Plan
from core.workflow import TASK_MAY_RUN, State
from storage.models import MigrationRequest

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_BUTTON = 75
MAX_FALLBACK = 3000

STATUS = {
    State.REQUESTED: ":hourglass_flowing_sand: Waiting for both approvals",
    State.APPROVED: ":white_check_mark: Approved, starting",
    State.AUTHORIZING_SOURCE: ":key: Creating the CAM role in the source account",
    State.GRANTING_SUBACCOUNT: ":key: Granting the target sub-account sts:AssumeRole",
    State.PREFLIGHT: ":mag: Preflight: assuming the role and listing the source instances",
    State.CREATING_TASK: ":shopping_trolley: Buying the DTS task",
    State.CONFIGURING: ":gear: Configuring the DTS task",
    State.VERIFYING: ":mag: Verification running",
    State.VERIFY_FAILED: ":x: Verification failed; fix and re-verify",
    State.STARTING: ":arrow_forward: Starting the migration",
    State.RUNNING: ":arrows_counterclockwise: Running",
    State.READY_TO_COMPLETE: ":checkered_flag: Ready to complete",
    State.COMPLETING: ":checkered_flag: Completing",
    State.REVOKING_ACCESS: ":lock: Revoking cross-account access",
    State.SUCCEEDED: ":tada: Succeeded",
    State.FAILED: ":rotating_light: Failed",
    State.REJECTED: ":no_entry: Rejected",
    State.STOPPING_TASK: ":octagonal_sign: Cancelling: stopping the DTS task before revoking access",
    State.CANCELLING: ":no_entry_sign: Cancelling: revoking access",
    State.CANCELLED: ":no_entry_sign: Cancelled",
    State.EXPIRED: ":alarm_clock: Expired (not approved in time)",
    State.AWAITING_OWNER: ":raised_hand: Waiting for the account owner's CAM steps (guided), then verify",
}
# Buttons shown on the request message, by state: (action_id, text, style)
BUTTONS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    State.REQUESTED: (
        ("approve_source", "Approve (source owner)", "primary"),
        ("approve_target", "Approve (target owner)", "primary"),
        ("reject", "Reject", "danger"),
        ("edit", "Edit", None),
    ),
    State.VERIFY_FAILED: (("reverify", "Re-verify", "primary"), ("cancel", "Cancel", "danger")),
    State.RUNNING: (("cancel", "Cancel", "danger"),),
    State.READY_TO_COMPLETE: (("complete", "Complete", "primary"), ("cancel", "Cancel", "danger")),
    State.FAILED: (("retry", "Retry", "primary"), ("cancel", "Cancel", "danger")),
}
NOTICE_BUTTONS = {"reverify": "Re-verify", "complete": "Complete", "retry": "Retry",
                  "guided_verify": "Role created — verify", "grant_verify": "Grant created — verify",
                  "guided_reveal": "Show me the full steps", "role_deleted_check": "Role deleted — check"}


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
        dicts = dicts[: MAX_BLOCKS - 1] + [section("… (truncated)").to_dict()]
    return {"text": clip(text, MAX_FALLBACK), "blocks": dicts}


# -- the request message ---------------------------------------------------------------------------------

def approval_line(side: str, approved_by: str | None, approvers: Sequence[str]) -> str:
    """One side's approval status, naming who approved or who may."""
    owner = f"{side.capitalize()} owner"
    if approved_by:
        return f":white_check_mark: {owner}: approved by {mention(approved_by)}"
    return f":hourglass: {owner}: waiting for {', '.join(mention(a) for a in approvers)}"


def role_action(plan: Plan, role: str) -> str:
    """Step 1's verb, truthful to the CAM read made with the plan: create, use, or what the owner must fix."""
    found = plan.role_found or {}
    kind = found.get("role")
    if kind == "dtsbot":
        made = f"made by dtsbot for request {escape(str(found.get('owner')))}"
        if found.get("trust_fits"):
            return f"use existing role {role} ({made}, shared),"
        return f"⚠️ role {role} exists ({made}) with another trust policy; the request will fail unless it"
    if kind == "person":
        if not found.get("trust_fits"):
            return (f"⚠️ existing role {role} (not made by dtsbot) has another trust policy: its owner must change "
                    "it, or choose another role_name; it must be")
        missing = found.get("missing") or []
        lacking = f"; its owner must first attach {', '.join(f'`{m}`' for m in missing)}" if missing else ""
        return f"use existing role {role} (not made by dtsbot: used read-only, never changed{lacking}),"
    checked = " (CAM could not be read now; checked again when the step runs)" if kind == "unknown" else ""
    return f"create CAM role {role}{checked}"


def plan_text(plan: Plan) -> str:
    """The plan as numbered steps in the guide's words, exact names and ARNs in code spans."""
    role = f"`{escape(plan.role_name)}` (`{escape(plan.role_arn)}`)"
    trusting = f"trusting `{plan.trusted_principal}`, external ID `{escape(plan.external_id_masked)}`"
    steps = [
        f"*1. Source account {escape(plan.source_account)} ({plan.source_uin})*: {role_action(plan, role)} {trusting}",
        "*2. Attach to the role*: " + ", ".join(f"`{p}`" for p in plan.policies),
    ]
    found = plan.role_found or {}
    if found.get("role") == "person":
        steps[1] = ("*2. The role must already have* (the bot never changes a role it did not create): "
                    + ", ".join(f"`{p}`" for p in plan.policies))
    if plan.grant is not None:
        steps.append(
            f"*3. Target account {escape(plan.target_account)} ({plan.target_uin})*: create policy "
            f"`{escape(plan.grant.policy_name)}` allowing `sts:AssumeRole` on `{escape(plan.grant.resource)}` "
            f"and attach it to sub-account `{plan.grant.subaccount_uin}`"
        )
    task = plan.task
    executor = "the root account" if task.executor == "root" else f"sub-account {task.executor}"
    steps.append(
        f"*{len(steps) + 1}. DTS task in {escape(plan.target_account)} ({plan.target_uin})*, run by {executor}: "
        f"`{task.database_type}` {task.source_region}/`{task.source_instance}` → "
        f"{task.target_region}/`{task.target_instance}`, {task.migrate_type}, objects `{escape(task.objects)}`, "
        f"instance class `{task.instance_class}`; verify, then start"
    )
    if plan.allowlisting_note:
        steps.append(f":warning: {escape(plan.allowlisting_note)}")
    return "\n".join(steps)


def guided_note(request: MigrationRequest, settings: Settings) -> str:
    """Which CAM steps of the plan an owner does by hand (accounts with `access: guided`), or ""."""
    notes = []
    if settings.account(request.source_account).access == "guided":
        notes.append(f"{escape(request.source_account)}'s owner does steps 1–2 from the bot's instructions")
    if request.executor != "root" and settings.account(request.target_account).access == "guided":
        notes.append(f"{escape(request.target_account)}'s owner does the sub-account grant")
    if not notes:
        return ""
    return "\n:raised_hand: Guided: " + "; ".join(notes) + " (the bot holds no CAM keys there), then presses verify."


def guided_steps(request: MigrationRequest, settings: Settings) -> frozenset[str]:
    """Keys of the journey steps an account owner does by hand (`access: guided`)."""
    keys = set()
    if settings.account(request.source_account).access == "guided":
        keys.add("source_role")
    if request.executor != "root" and settings.account(request.target_account).access == "guided":
        keys.add("grant")
    return frozenset(keys)


def request_message(request: MigrationRequest, plan: Plan, approved_by: Mapping[str, str],
                    settings: Settings, sharing_source: Sequence[str] = ()) -> dict[str, Any]:
    """The top-level request message: who asks for what, the plan, the status line and the buttons.

    `sharing_source`: other unfinished requests reading the same source instance, warned about in the plan.
    """
    status = STATUS.get(State(request.state), request.state)
    lines = [f"*Status:* {status}"]
    if request.state == State.REQUESTED:
        for side, account in (("source", request.source_account), ("target", request.target_account)):
            lines.append(approval_line(side, approved_by.get(side), settings.account(account).approvers))
    if request.last_error and request.state in (State.FAILED, State.VERIFY_FAILED):
        lines.append(f"*Last error:* {escape(request.last_error)}")
    if request.progress is not None and State(request.state) in journey.JOURNEY[journey.MIGRATE].states:
        lines.append(f"*Progress:* {journey.bar(request.progress)}{journey.lag(request)}")
    if request.state == State.RUNNING and request.facts.dts_attention:
        lines.append(escape(request.facts.dts_attention))  # DTS retrying or paused (track_task)
    if request.state == State.REJECTED and request.facts.reject_reason:
        lines.append(f"*Reason:* {verbatim(request.facts.reject_reason)}")
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"DTS migration {request.id}", 150))),
        section(
            f"{mention(request.requester)} requests a cross-account migration\n"
            f"*Source:* {escape(request.source_account)} ({request.source_uin}) · {request.source_region} · "
            f"`{escape(request.source_instance)}`\n"
            f"*Target:* {escape(request.target_account)} ({request.target_uin}) · {request.target_region} · "
            f"`{escape(request.target_instance)}`\n"
            f"*Engine:* {plan.task.engine_label} · *Migrate type:* {request.migrate_type} · "
            f"*Objects:* `{escape(request.objects)}` · *Executor:* {escape(request.executor)}",
            block_id="summary",
        ),
        section("*Plan*\n" + plan_text(plan) + source_warning(request, sharing_source) + guided_note(request, settings),
                block_id="plan"),
        section("\n".join(lines), block_id="status"),
    ]
    step_list = journey.steps(request, guided_steps(request, settings))
    if step_list:
        blocks.append(section("\n".join(step_list), block_id="journey"))
    value = f"{request.id}:{request.revision}"
    buttons = [button(a, t, value, s, cancel_dialog(request) if a == "cancel" else None)
               for a, t, s in BUTTONS.get(State(request.state), ())]
    if buttons:
        blocks.append(ActionsBlock(block_id="request_actions", elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"Plan revision {request.revision} · job `{escape(request.job_id or '-')}` · "
             f"{escape(journey.raw_states(request))}")]))
    return render(blocks, f"DTS migration {request.id}: {STATUS.get(State(request.state), request.state)}")


def source_warning(request: MigrationRequest, sharing_source: Sequence[str]) -> str:
    """A plan line when other unfinished requests read the same source instance (it can be legitimate)."""
    if not sharing_source:
        return ""
    return (f"\n:warning: *Same source:* `{escape(request.source_instance)}` is also the source of "
            f"{', '.join(sharing_source)} (still open). Make sure both migrations are meant.")


# -- thread notices and ephemeral replies ----------------------------------------------------------------

def notice(request_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A thread reply from an outbox payload `{"event", "text", "detail"?, "user"?, "actions"?}`.

    `text` is escaped (it may carry the bot's own formatting); `detail` is a person's words, shown verbatim.
    """
    text = escape(payload.get("text") or payload.get("event", "update"))
    if payload.get("detail"):
        text += "\n" + verbatim(payload["detail"])
    user = payload.get("user")
    line = f"{text} ({mention(user)})" if isinstance(user, str) and user[:1] in "UW" else text
    blocks: list[Block] = [section(chunk) for chunk in sections(line)]
    # actions: action ids, or the engine's {"action_id", "text", "value"}; only the known buttons are drawn
    ids = [a.get("action_id") if isinstance(a, Mapping) else a for a in payload.get("actions", [])]
    buttons = [button(a, NOTICE_BUTTONS[a], request_id, "primary") for a in ids if a in NOTICE_BUTTONS]
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
MORE_PROBLEMS = "more problems not shown"


def errors_reply(errors: Iterable[str]) -> dict[str, Any]:
    """The ephemeral answer to an invalid inline request: one bullet per bad field with what is allowed."""
    items = [escape(e) for e in errors]
    text = "Your request has problems, nothing was created:"
    for shown, item in enumerate(items):
        if len(text) + len(item) > ERRORS_BUDGET:  # whole items only: a clipped one would name no field
            text += f"\n({len(items) - shown} {MORE_PROBLEMS})"
            break
        text += f"\n• {item}"
    return render([section(text)], text)


def cancel_dialog(request: MigrationRequest) -> ConfirmObject:
    """Slack's confirmation dialog in front of every Cancel button; it says when a running task is stopped."""
    stops = request.state in TASK_MAY_RUN or request.state == State.FAILED
    what = ("its DTS task is stopped (if it runs), then the cross-account access is revoked" if stops
            else "nothing more is done in the cloud and any access created is revoked")
    return ConfirmObject(
        title=PlainTextObject(text="Cancel this migration?"),
        text=MarkdownTextObject(text=f"{request.id} ({request.state}) will be cancelled: {what}. "
                                     "This cannot be undone."),
        confirm=PlainTextObject(text="Cancel it"), deny=PlainTextObject(text="Keep it"), style="danger",
    )


def cancel_confirm(request: MigrationRequest) -> dict[str, Any]:
    """Ephemeral: a Cancel button behind Slack's confirmation dialog."""
    confirm = cancel_dialog(request)
    blocks = [
        section(f"Cancel *{request.id}* ({escape(request.source_instance)} → {escape(request.target_instance)}, "
                f"now {request.state})?"),
        ActionsBlock(block_id="cancel_actions",
                     elements=[button("cancel", f"Cancel {request.id}", request.id, "danger", confirm)]),
    ]
    return render(blocks, f"Cancel {request.id}?")


HELP = (
    "*/dts-migrate* runs a cross-account Tencent Cloud DTS migration after both account owners approve.\n"
    "• `/dts-migrate` opens the request form\n"
    "• `/dts-migrate source_account=shop-prod source_region=ap-guangzhou source_instance=cdb-ab12cd34 "
    "target_account=analytics target_region=ap-guangzhou target_instance=cdb-ef56gh78 db_type=mysql` "
    "creates a request at once (optional: role_name= external_id= executor= migrate_type= objects=); "
    "quote values with spaces\n"
    "• `/dts-migrate list` open requests · `status ID` one request · `cancel ID` cancel one · `help` this text"
)


def help_message() -> dict[str, Any]:
    """The help text."""
    return render([section(HELP)], "How to use /dts-migrate")


def request_list(requests: Sequence[MigrationRequest]) -> dict[str, Any]:
    """Open requests, newest first, one line each."""
    if not requests:
        return render([section("No open migration requests.")], "No open migration requests.")
    lines = [
        f"• *{r.id}* {STATUS.get(State(r.state), r.state)} · {escape(r.source_account)} `{escape(r.source_instance)}`"
        f" → {escape(r.target_account)} `{escape(r.target_instance)}` · by {mention(r.requester)}"
        for r in requests
    ]
    blocks = [section("*Open migration requests*")] + [section("\n".join(lines[i:i + 20]))
                                                      for i in range(0, len(lines), 20)]
    return render(blocks, f"{len(requests)} open migration requests")


def request_status(request: MigrationRequest, plan: Plan, approved_by: Mapping[str, str],
                   settings: Settings, sharing_source: Sequence[str] = ()) -> dict[str, Any]:
    """The request message without its buttons, for `/dts-migrate status ID`."""
    message = request_message(request, plan, approved_by, settings, sharing_source)
    message["blocks"] = [b for b in message["blocks"] if b["type"] != "actions"]
    return message


def private_notice(request: MigrationRequest, event: str) -> tuple[str, dict[str, Any]]:
    """(side, message) of a private notice: the full value a fix needs, for that side's approvers only."""
    if event != "trust_policy":
        raise ValueError(f"unknown private notice {event!r}")
    document = json.dumps(policies.trust_policy(request.target_uin, request.external_id), indent=2)
    text = (f"Only the approvers of {request.source_account} see this. Request {request.id} can use role "
            f"`{request.role_name}` only with exactly this trust policy (it holds the request's external ID; "
            f"do not paste it in the channel):\n```{document}```")
    return "source", render([section(text)], text)

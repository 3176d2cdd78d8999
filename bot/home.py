"""Block Kit for the App Home tab: requests waiting for my approval (with the plan an approval binds to, in the
channel message's own words, and the channel's own approve buttons behind a dialog naming the plan revision),
my open requests with their status and a link to their thread, and my recently finished ones.

Pure functions like bot/blocks.py, rendered in the viewer's language (bot/listeners/events/app_home_opened.py
renders it inside their `i18n.speaking`); the buttons carry the same action ids and values as the request message
(`approve_source`/`approve_target`, `<request id>:<plan revision>`), so a click is handled by the same listener
under the same permission checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
)

from bot.blocks import BUTTONS, approve_dialog, button, clip, escape, mention, plan_text, section, state_label
from core.home import Home
from core.i18n import _
from core.plan import Plan
from core.workflow import State
from storage.models import MigrationRequest

HOME_BLOCKS_MAX = 100
APPROVE_TEXT = {action.removeprefix("approve_"): text for action, text, _style in BUTTONS[State.REQUESTED]
                if action.startswith("approve_")}
"""The request message's own approve labels (msgids), by side."""
LINES_PER_SECTION = 10


def _route(request: MigrationRequest) -> str:
    return (f"{escape(request.source_account)} `{escape(request.source_instance)}` → "
            f"{escape(request.target_account)} `{escape(request.target_instance)}`")


def _name(request: MigrationRequest, permalinks: Mapping[str, str]) -> str:
    """The request id, linked to its thread when the link is known."""
    link = permalinks.get(request.id)
    return f"<{link}|{request.id}>" if link else request.id


def _line(request: MigrationRequest, permalinks: Mapping[str, str], report: bool = False) -> str:
    line = f"• *{_name(request, permalinks)}* {state_label(request.state)} · {_route(request)}"
    if report:  # the migration report (core/report.py) has no URL: the command that prints it
        line += " · " + _("report: `dtsbot report {id}`", id=request.id)
    return line


def _lines(title: str, requests: list[MigrationRequest], permalinks: Mapping[str, str], empty: str,
           report: bool = False) -> list[Block]:
    if not requests:
        return [section(f"*{title}*\n{empty}")]
    lines = [_line(r, permalinks, report) for r in requests]
    chunks = ["\n".join(lines[i:i + LINES_PER_SECTION]) for i in range(0, len(lines), LINES_PER_SECTION)]
    return [section(f"*{title}*"), *(section(chunk) for chunk in chunks)]


def home_view(home: Home, permalinks: Mapping[str, str], plans: Mapping[str, Plan],
              notice: str | None = None) -> dict[str, Any]:
    """The Home tab view; `permalinks` link each request to its thread, `plans` hold each waiting request's plan
    (core.plan.plan_for, as the channel shows it), `notice` is the answer to the last click made here (the Home
    has no ephemeral replies)."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=_("DTS migrations")))]
    if notice:
        blocks.append(ContextBlock(block_id="notice", elements=[MarkdownTextObject(text=clip(escape(notice), 3000))]))
    waiting = _("*Waiting for your approval*")
    blocks.append(section(waiting if home.awaiting else waiting + "\n" + _("Nothing waits for you."),
                          block_id="awaiting"))
    for request, sides in home.awaiting:
        blocks.append(section(_("*{request}* by {requester} · {route} · plan revision {revision}",
                                request=_name(request, permalinks), requester=mention(request.requester),
                                route=_route(request), revision=request.revision),
                              block_id=f"awaiting:{request.id}"))
        blocks.append(section(plan_text(plans[request.id]), block_id=f"plan:{request.id}"))
        value = f"{request.id}:{request.revision}"
        blocks.append(ActionsBlock(block_id=f"approve:{request.id}", elements=[
            button(f"approve_{side}", _(APPROVE_TEXT[side]), value, "primary", approve_dialog(request, side))
            for side in sides]))
    blocks.append(DividerBlock())
    blocks += _lines(_("Your open requests"), home.open, permalinks, _("None."))
    blocks += _lines(_("Recently finished"), home.finished, permalinks, _("None."), report=True)
    dicts = [b.to_dict() for b in blocks]
    if len(dicts) > HOME_BLOCKS_MAX:
        dicts = dicts[: HOME_BLOCKS_MAX - 1] + [section(_("… (more not shown)")).to_dict()]
    return {"type": "home", "callback_id": "home", "blocks": dicts}

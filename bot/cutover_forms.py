"""Block Kit for the cutover gate's override form: an approver's half of the two-sided override, with a reason."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from bot.blocks import escape, section
from bot.modals import VALUE
from core.i18n import _

OVERRIDE_FORM = "override_gate"


def override_modal(request_id: str) -> dict[str, Any]:
    """Asks an approver why the cutover may go ahead without the missing evidence; the thread and the audit keep
    the reason."""
    view = View(
        type="modal", callback_id=OVERRIDE_FORM, title=PlainTextObject(text=_("Override cutover gate")),
        submit=PlainTextObject(text=_("Override")), close=PlainTextObject(text=_("Back")),
        private_metadata=json.dumps({"request_id": request_id}),
        blocks=[
            section(_("Override the cutover gate of *{id}* for your side? *Complete* is offered once an approver of "
                      "each side has overridden it; the channel and the audit log keep your reason.",
                      id=escape(request_id))),
            InputBlock(block_id="reason", label=PlainTextObject(text=_("Reason")),
                       element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=2000)),
        ],
    )
    return view.to_dict()

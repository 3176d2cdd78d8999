"""Block Kit for modals: the request form (new or edit, optionally prefilled) and the reject-reason form.

Each input's block_id is the request field's name, so validation errors map straight onto the field
(`response_action: errors`). Pure functions, built with slack_sdk's models.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import clip, escape, section
from core import db_kinds, topology, validation
from core.config import Settings
from core.control import RATE_LIMITS
from core.i18n import N_, _
from core.validation import FieldError

REQUEST_FORM = "request_form"
REJECT_FORM = "reject_reason"
THROTTLE_FORM = "throttle_form"
VALUE = "value"  # the action_id of every input

_LABELS = {
    "source_account": N_("Source account"), "source_region": N_("Source region"), "source_instance": N_("Source instance ID"),
    "target_account": N_("Target account"), "target_region": N_("Target region"), "target_instance": N_("Target instance ID"),
    "db_type": N_("Database engine"), "migrate_type": N_("Migrate type"), "role_name": N_("CAM role name (source account)"),
    "external_id": N_("External ID"), "executor": N_("Executor (target account)"), "objects": N_("Objects"),
    "write_mode": N_("Redis write mode (target)"),
    "start_at": N_("Start at (timed start)"), "cutover_at": N_("Cutover window"),
    "read_only_target": N_("Read-only target while migrating"),
}
_HINTS = {
    "source_instance": N_("e.g. cdb-ab12cd34"), "target_instance": N_("e.g. cdb-ef56gh78"),
    "role_name": N_("Leave empty and the request gets a role of its own (dtsbot-<request id>)"),
    "external_id": N_("Leave empty and the bot generates a strong one"),
    "executor": N_("root, or the UIN of the target sub-account that runs the task"),
    "objects": N_("all, or a comma list of db or db.table"),
    "write_mode": N_("Redis and Tendis only. Empty: normal (the target must be empty); overwrite or clearData "
                     "change data on the target"),
    "start_at": N_("ISO time with zone, e.g. 2026-12-07T22:00+08:00. Empty: DTS starts at once"),
    "cutover_at": N_("ISO time with zone: Complete waits for it, the approvers are reminded before it"),
    "read_only_target": N_("yes: DTS keeps the target read-only while it migrates (MySQL only)"),
}


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=PlainTextObject(text=clip(label, 75)))


def choices(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """The static selects' (value, label) options: accounts from the config, regions, the engines a request may
    name (the guide's, plus dts.experimental_engines), migrate types, Redis write modes."""
    accounts = [(a.name, f"{a.name} ({a.uin})") for a in settings.accounts]
    regions = [(r, r) for r in validation.REGIONS]
    return {
        "source_account": accounts, "target_account": accounts, "source_region": regions,
        "target_region": regions,
        "db_type": [(e.name, e.label) for e in db_kinds.offered(settings.dts.experimental_engines)],
        "migrate_type": [(m, m) for m in db_kinds.MIGRATE_TYPES],
        "write_mode": [(m, m) for m in topology.WRITE_MODES],
    }


def _input(field: str, initial: str | None, options: list[tuple[str, str]] | None) -> InputBlock:
    optional = field not in validation.REQUIRED
    if options is not None:
        opts = [_option(v, label) for v, label in options]
        chosen = next((o for o in opts if o.value == initial), None)
        element: Any = StaticSelectElement(action_id=VALUE, options=opts, initial_option=chosen,
                                           placeholder=PlainTextObject(text=_("Choose")))
    else:
        element = PlainTextInputElement(action_id=VALUE, initial_value=clip(initial, 3000) if initial else None,
                                        max_length=4000 if field == "objects" else 150,
                                        multiline=field == "objects")
    hint = _HINTS.get(field)
    return InputBlock(block_id=field, label=PlainTextObject(text=_(_LABELS[field])), element=element,
                      optional=optional, hint=PlainTextObject(text=_(hint)) if hint else None)


def request_modal(settings: Settings, initial: Mapping[str, str | None] | None = None,
                  metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The request form; `initial` prefills it, `metadata` (request id when editing) rides in private_metadata."""
    values = {**validation.OPTIONAL_DEFAULTS, **(initial or {})}
    options = choices(settings)
    editing = bool(metadata and metadata.get("request_id"))
    blocks = [_input(field, values.get(field), options.get(field)) for field in validation.FIELDS]
    view = View(
        type="modal", callback_id=REQUEST_FORM,
        title=PlainTextObject(text=_("Edit migration") if editing else _("New DTS migration")),
        submit=PlainTextObject(text=_("Save") if editing else _("Request")), close=PlainTextObject(text=_("Cancel")),
        private_metadata=json.dumps(dict(metadata or {})), blocks=blocks,
    )
    return view.to_dict()


def submitted_fields(view: Mapping[str, Any]) -> dict[str, str | None]:
    """The request fields of a submitted form: option values and texts by field name."""
    fields: dict[str, str | None] = {}
    for block_id, actions in view["state"]["values"].items():
        state = actions.get(VALUE, {})
        if state.get("type") == "static_select":
            option = state.get("selected_option")
            fields[block_id] = option["value"] if option else None
        else:
            fields[block_id] = state.get("value")
    return fields


def metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    """The view's private_metadata as a dict ({} when empty or not the bot's JSON object: a crafted value
    is a new request's form, not an edit of some request)."""
    raw = view.get("private_metadata") or ""
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_NORMALIZERS: dict[str, Callable[[str, Settings], str | None]] = {
    "source_account": lambda v, s: validation.source_account(v, s.accounts),
    "target_account": lambda v, s: validation.target_account(v, s.accounts),
    "source_region": lambda v, _s: validation.source_region(v),
    "target_region": lambda v, _s: validation.target_region(v),
    "db_type": lambda v, s: validation.db_type(v, s.dts.experimental_engines),
    "write_mode": lambda v, _s: validation.write_mode(v),
    "migrate_type": lambda v, _s: validation.migrate_type(v),
}


def prefill(fields: Mapping[str, str], settings: Settings) -> dict[str, str]:
    """Inline fields as the form's initial values: selects get their option's value, texts stay as typed."""
    out: dict[str, str] = {}
    for name, value in fields.items():
        normalize = _NORMALIZERS.get(name)
        try:
            out[name] = (normalize(value, settings) if normalize else value) or value
        except FieldError:
            continue
    return out


def reject_modal(request_id: str) -> dict[str, Any]:
    """Asks an approver why the request is rejected; the reason is posted in the request's thread."""
    view = View(
        type="modal", callback_id=REJECT_FORM, title=PlainTextObject(text=_("Reject migration")),
        submit=PlainTextObject(text=_("Reject")), close=PlainTextObject(text=_("Back")),
        private_metadata=json.dumps({"request_id": request_id}),
        blocks=[
            section(_("Reject *{id}*? The requester and the channel see the reason.", id=escape(request_id))),
            InputBlock(block_id="reason", label=PlainTextObject(text=_("Reason")),
                       element=PlainTextInputElement(action_id=VALUE, multiline=True, max_length=2000)),
        ],
    )
    return view.to_dict()


def throttle_modal(request_id: str, current: Mapping[str, int] | None) -> dict[str, Any]:
    """*Throttle*: each DTS rate limit prefilled with the value DTS last reported (RateLimitOption); an empty field
    keeps its current value. Ranges are DTS's documented ones (core.control.RATE_LIMITS)."""
    inputs = []
    for name, (low, high) in RATE_LIMITS.items():
        value = (current or {}).get(name)
        inputs.append(InputBlock(
            block_id=name, label=PlainTextObject(text=name), optional=True,
            hint=PlainTextObject(text=_("{low}–{high}; empty: unchanged", low=low, high=high)),
            element=PlainTextInputElement(action_id=VALUE, initial_value=str(value) if value is not None else None,
                                          max_length=12)))
    view = View(
        type="modal", callback_id=THROTTLE_FORM, title=PlainTextObject(text=_("Throttle migration")),
        submit=PlainTextObject(text=_("Apply")), close=PlainTextObject(text=_("Back")),
        private_metadata=json.dumps({"request_id": request_id}),
        blocks=[section(_("Rate limits of *{id}*'s DTS task (ModifyMigrateRateLimit). Lower values protect the "
                          "source database and slow the migration; the thread records who changed what.",
                          id=escape(request_id))), *inputs],
    )
    return view.to_dict()

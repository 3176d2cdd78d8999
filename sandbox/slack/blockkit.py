"""Block Kit validation as Slack's Web API does it: slack_sdk's models plus the limits they leave out.

Errors are strings in Slack's style, each ending with the JSON pointer of the offending field, so a failing
test names the block and field a builder got wrong.
"""

import logging
from collections import Counter
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
TEXT_TYPES = ("plain_text", "mrkdwn")

# (kind, field) -> (max characters, plain_text only); kind is the block/element type, or the role of an
# untyped object ("option", "confirm"). "*" matches any kind.
_TEXT_LIMITS: dict[tuple[str, str], tuple[int, bool]] = {
    ("header", "text"): (150, True),
    ("section", "text"): (3000, False),
    ("section", "fields"): (2000, False),
    ("button", "text"): (75, True),
    ("option", "text"): (75, False),
    ("option", "description"): (75, True),
    ("input", "label"): (2000, True),
    ("input", "hint"): (2000, True),
    ("confirm", "title"): (100, True),
    ("confirm", "text"): (300, False),
    ("confirm", "confirm"): (30, True),
    ("confirm", "deny"): (30, True),
    ("modal", "title"): (24, True),
    ("modal", "submit"): (24, True),
    ("modal", "close"): (24, True),
    ("*", "placeholder"): (150, True),
}
_STRING_LIMITS: dict[tuple[str, str], int] = {
    ("*", "action_id"): 255,
    ("*", "block_id"): 255,
    ("button", "value"): 2000,
    ("button", "url"): 3000,
    ("option", "value"): 150,
    ("modal", "callback_id"): 255,
    ("modal", "private_metadata"): 3000,
    ("modal", "external_id"): 255,
}
_NESTED = ("accessory", "element")
_SDK_LOGGER = logging.getLogger("slack_sdk.models")


def message_errors(blocks: Any) -> list[str]:
    """Why Slack would refuse these message blocks (`invalid_blocks`); empty when valid."""
    return _blocks_errors(blocks, "/blocks", MESSAGE_BLOCKS_MAX)


def view_errors(view: Any) -> list[str]:
    """Why Slack would refuse this view (`invalid_arguments`); empty when valid."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    if kind == "modal" and "title" not in view:
        errors.append("missing required field: title [json-pointer:/view]")
    blocks = view.get("blocks")
    if kind == "modal" and _has_input(blocks) and "submit" not in view:
        errors.append("submit is required when a modal has input blocks [json-pointer:/view]")
    errors += _object_errors({k: v for k, v in view.items() if k != "blocks"}, "/view", "modal", [])
    errors += _blocks_errors(blocks, "/view/blocks", MODAL_BLOCKS_MAX)
    if not errors:
        errors += _sdk_errors(lambda: View(**view).validate_json(), "/view")
    return list(dict.fromkeys(errors))


def _has_input(blocks: Any) -> bool:
    return isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)


def _blocks_errors(blocks: Any, base: str, max_blocks: int) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{base}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"must be less than {max_blocks + 1} items [json-pointer:{base}]")
    block_ids = Counter(b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id"))
    for block_id, seen in block_ids.items():
        if seen > 1:
            errors.append(f"duplicate block_id {block_id!r} [json-pointer:{base}]")
    for index, block in enumerate(blocks):
        errors += _block_errors(block, f"{base}/{index}")
    return list(dict.fromkeys(errors))


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    errors = _sdk_errors(lambda: _parse_and_validate(block), pointer)
    action_ids: list[str] = []
    errors += _object_errors(block, pointer, block["type"], action_ids)
    for action_id, seen in Counter(action_ids).items():
        if seen > 1:
            errors.append(f"duplicate action_id {action_id!r} in one block [json-pointer:{pointer}]")
    return errors


def _parse_and_validate(block: dict) -> None:
    previous = _SDK_LOGGER.disabled
    _SDK_LOGGER.disabled = True  # the SDK logs unknown types; the emulator reports them as errors instead
    try:
        parsed = Block.parse(block)
    finally:
        _SDK_LOGGER.disabled = previous
    if parsed is None:
        raise ValueError(f"unsupported block type {block['type']!r}")
    parsed.validate_json()
    parsed.to_dict()  # validates the nested elements and composition objects


def _sdk_errors(check: Any, pointer: str) -> list[str]:
    try:
        check()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as exc:
        return [f"{exc} [json-pointer:{pointer}]"]
    return []


def _object_errors(obj: dict, pointer: str, kind: str, action_ids: list[str]) -> list[str]:
    errors: list[str] = []
    for key, value in obj.items():
        where = f"{pointer}/{key}"
        text_limit = _TEXT_LIMITS.get((kind, key)) or _TEXT_LIMITS.get(("*", key))
        if key == "action_id" and isinstance(value, str):
            action_ids.append(value)
        if key == "fields" and isinstance(value, list) and text_limit:
            for index, field in enumerate(value):
                errors += _text_errors(field, f"{where}/{index}", *text_limit)
        elif text_limit and isinstance(value, dict):
            errors += _text_errors(value, where, *text_limit)
        elif key == "confirm" and isinstance(value, dict):
            errors += _object_errors(value, where, "confirm", action_ids)
        elif key in ("options", "initial_options") and isinstance(value, list):
            for index, option in enumerate(value):
                if isinstance(option, dict):
                    errors += _object_errors(option, f"{where}/{index}", "option", action_ids)
        elif key == "initial_option" and isinstance(value, dict):
            errors += _object_errors(value, where, "option", action_ids)
        elif key in _NESTED and isinstance(value, dict):
            errors += _object_errors(value, where, str(value.get("type")), action_ids)
        elif key == "elements" and isinstance(value, list):
            for index, element in enumerate(value):
                if isinstance(element, dict):
                    errors += _element_errors(element, f"{where}/{index}", action_ids)
        elif isinstance(value, str):
            limit = _STRING_LIMITS.get((kind, key)) or _STRING_LIMITS.get(("*", key))
            if limit and len(value) > limit:
                errors.append(f"must be less than {limit + 1} characters [json-pointer:{where}]")
    return errors


def _element_errors(element: dict, pointer: str, action_ids: list[str]) -> list[str]:
    kind = str(element.get("type"))
    if kind in TEXT_TYPES:  # context blocks hold text objects directly
        return _text_errors(element, pointer, 3000, False)
    return _object_errors(element, pointer, kind, action_ids)


def _text_errors(obj: Any, pointer: str, limit: int, plain_only: bool) -> list[str]:
    allowed = ("plain_text",) if plain_only else TEXT_TYPES
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [f"must be a text object of type {' or '.join(allowed)} [json-pointer:{pointer}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []

"""A modal's inputs as Slack reports them in `view.state.values` when a person submits it."""

from typing import Any

TEXT_INPUTS = ("plain_text_input", "number_input", "email_text_input", "url_text_input")
SINGLE_CHOICE = ("static_select", "radio_buttons", "external_select")
MULTI_CHOICE = ("multi_static_select", "checkboxes", "multi_external_select")
PICKERS = {"users_select": "selected_user", "conversations_select": "selected_conversation",
           "channels_select": "selected_channel", "datepicker": "selected_date"}


def state_values(view: dict, values: dict[str, Any]) -> dict[str, dict[str, dict]]:
    """`state.values` for every input block of `view`.

    `values` maps block_id to a plain value (text, an option's value, a list of option values) or to
    Slack's own {action_id: state value}; inputs not named keep their initial value.
    """
    state: dict[str, dict[str, dict]] = {}
    for block in view.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = block["block_id"], element["action_id"]
        given = values.get(block_id, _UNSET)
        if isinstance(given, dict) and action_id in given:
            state[block_id] = given
        else:
            state[block_id] = {action_id: element_value(element, given)}
    unknown = set(values) - set(state)
    if unknown:
        raise LookupError(f"no input block with block_id {sorted(unknown)} in the view")
    return state


class _Unset:
    """Marks an input the test did not fill in."""


_UNSET: Any = _Unset()


def element_value(element: dict, given: Any = _UNSET) -> dict:
    """One input's state value: typed like Slack's, from `given` or the element's initial value."""
    kind = element["type"]
    if kind in TEXT_INPUTS:
        value = element.get("initial_value") if given is _UNSET else given
        return {"type": kind, "value": None if value in (None, "") else str(value)}
    if kind in SINGLE_CHOICE:
        option = element.get("initial_option") if given is _UNSET else _option(element, given)
        return {"type": kind, "selected_option": option}
    if kind in MULTI_CHOICE:
        chosen = element.get("initial_options", []) if given is _UNSET else [_option(element, v) for v in given]
        return {"type": kind, "selected_options": chosen}
    if kind in PICKERS:
        initial = element.get("initial_" + PICKERS[kind].removeprefix("selected_"))
        return {"type": kind, PICKERS[kind]: initial if given is _UNSET else given}
    raise ValueError(f"unsupported input element {kind!r}")


def _option(element: dict, value: Any) -> dict | None:
    if value is None:
        return None
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options += group.get("options", [])
    for option in options:
        if option.get("value") == value:
            return option
    raise LookupError(f"{value!r} is not an option of {element.get('action_id')!r}")

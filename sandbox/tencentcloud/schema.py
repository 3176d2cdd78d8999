"""Parameter check against the committed compact API schema (generated from tccli's api.json).

`check(service, action, params)` raises the errors Tencent Cloud answers for the same mistakes:
`InvalidAction`, `UnknownParameter`, `MissingParameter`, and `InvalidParameter` for a value of the wrong type.
Nested names are reported with dots and list indices, e.g. `SrcInfo.Info.0.TmpToken`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.tencentcloud.exceptions import (
    InvalidAction,
    InvalidParameter,
    MissingParameter,
    UnknownParameter,
)

SCHEMA_PATH = Path(__file__).with_name("api_schema.json")

_SCALAR_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "uint": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "bool": lambda v: isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}
_TYPE_WORDS = {"string": "String", "int": "Integer", "uint": "non-negative Integer", "bool": "Boolean",
               "float": "Float", "list": "Array", "object": "Object"}


@cache
def api_schema() -> dict[str, Any]:
    """The committed schema: {service: {version, actions: {action: {param: schema}}}}."""
    return json.loads(SCHEMA_PATH.read_text())


def version(service: str) -> str | None:
    """API version (e.g. `2019-01-16`) the sandbox serves for `service`, or None if not served."""
    entry = api_schema().get(service)
    return entry["version"] if entry else None


def check(service: str, action: str, params: dict[str, Any]) -> None:
    """Raise the Tencent Cloud error for an unknown action or any parameter not matching the schema."""
    actions = api_schema().get(service, {}).get("actions", {})
    if action not in actions:
        raise InvalidAction(f"The requested action `{action}` does not exist.")
    _check_members(actions[action], params, "")


def _check_members(members: dict[str, Any], value: dict[str, Any], prefix: str) -> None:
    for name in value:
        if name not in members:
            raise UnknownParameter(f"The parameter `{prefix}{name}` is not recognized.")
    for name, schema in members.items():
        if schema.get("required") and value.get(name) is None:
            raise MissingParameter(f"The request is missing a required parameter `{prefix}{name}`.")
        if value.get(name) is not None:
            _check_value(schema, value[name], f"{prefix}{name}")


def _check_value(schema: dict[str, Any], value: Any, path: str) -> None:
    kind = schema["type"]
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong_type(path, kind)
        for i, item in enumerate(value):
            _check_value(schema["item"], item, f"{path}.{i}")
    elif kind == "object":
        if not isinstance(value, dict):
            raise _wrong_type(path, kind)
        if "members" in schema:
            _check_members(schema["members"], value, f"{path}.")
    elif not _SCALAR_CHECKS[kind](value):
        raise _wrong_type(path, kind)


def _wrong_type(path: str, kind: str) -> InvalidParameter:
    return InvalidParameter(f"The value type of parameter `{path}` is not valid, expected {_TYPE_WORDS[kind]}.")


def output_problems(service: str, action: str, body: dict[str, Any]) -> list[str]:
    """Where an answer (`Response` without the envelope) departs from the API reference's output: a field the
    reference does not name, or a value of another type (null is allowed: the reference says fields may be)."""
    fields = api_schema().get(service, {}).get("outputs", {}).get(action)
    if fields is None:
        return [f"{service}.{action} has no output schema"]
    problems: list[str] = []
    _output_members(fields, body, "", problems)
    return problems


def _output_members(members: dict[str, Any], value: dict[str, Any], prefix: str, problems: list[str]) -> None:
    for name, item in value.items():
        if name not in members:
            problems.append(f"{prefix}{name}: not in the API reference")
        elif item is not None:
            _output_value(members[name], item, f"{prefix}{name}", problems)


def _output_value(schema: dict[str, Any], value: Any, path: str, problems: list[str]) -> None:
    kind = schema["type"]
    if kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected {_TYPE_WORDS[kind]}")
            return
        for i, item in enumerate(value):
            _output_value(schema["item"], item, f"{path}.{i}", problems)
    elif kind == "object":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected {_TYPE_WORDS[kind]}")
        elif "members" in schema:
            _output_members(schema["members"], value, f"{path}.", problems)
    elif not _SCALAR_CHECKS[kind](value):
        problems.append(f"{path}: expected {_TYPE_WORDS[kind]}, got {type(value).__name__}")

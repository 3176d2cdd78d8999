"""A stand-in for `tccli` on the scripts dtsbot generates: each line read the way tccli reads it, then sent.

tccli turns `--Name value` into the parameter `Name`, typed by the API reference: Integer with int(), an array
as the following words (argparse `nargs='*'`), an object as JSON, anything else as the string. `--filter` is
a JMESPath applied to the answer; `VAR=$(tccli ...)` keeps it in a shell variable that `"$VAR"` reads later.
Types come from the sandbox's schema (generated from tccli's api.json), so a misspelt or mistyped parameter is
caught here exactly as Tencent Cloud would refuse it (`schema.check`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from sandbox.tencentcloud import schema

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$")
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_GLOBAL_OPTIONS = frozenset({"filter", "region", "profile", "output"})


@dataclass(frozen=True)
class Command:
    """One `tccli <service> <Action>` line: the parameters as the API receives them."""

    service: str
    action: str
    params: dict[str, Any]
    filter: str | None
    keep: str | None


def _typed(kind: dict[str, Any], word: str) -> Any:
    if kind["type"] in ("int", "uint"):
        return int(word)
    if kind["type"] == "float":
        return float(word)
    if kind["type"] == "bool":
        return word == "True"
    if kind["type"] == "object":
        return json.loads(word)
    return word


def parse_line(line: str, variables: dict[str, str] | None = None) -> Command:
    """One script line as tccli parses it (variables substituted as the shell would)."""
    keep = None
    assigned = _ASSIGN.match(line.strip())
    if assigned:
        keep, line = assigned.group(1), assigned.group(2)
    line = _VAR.sub(lambda m: (variables or {})[m.group(1)], line)
    words = shlex.split(line)
    if words[:1] != ["tccli"] or len(words) < 3:
        raise ValueError(f"not a tccli command: {line[:80]}")
    service, action = words[1], words[2]
    members = schema.api_schema().get(service, {}).get("actions", {}).get(action, {})
    params: dict[str, Any] = {}
    options: dict[str, str] = {}
    index = 3
    while index < len(words):
        name = words[index].removeprefix("--")
        values = []
        index += 1
        while index < len(words) and not words[index].startswith("--"):
            values.append(words[index])
            index += 1
        if name in _GLOBAL_OPTIONS:
            options[name] = values[0]
            continue
        kind = members.get(name, {"type": "string"})
        params[name] = [_typed(kind["item"], w) for w in values] if kind["type"] == "list" else \
            _typed(kind, " ".join(values))
    return Command(service, action, params, options.get("filter"), keep)


def parse(script: str) -> list[Command]:
    """Every command of a script, with placeholder values for the variables earlier lines keep."""
    variables: dict[str, str] = {}
    commands = []
    for line in filter(None, (raw.strip() for raw in script.splitlines())):
        command = parse_line(line, variables)
        if command.keep:
            variables[command.keep] = "1"
        commands.append(command)
    return commands


_PICK = re.compile(r"^(\w+)\[\?(\w+)=='([^']*)'\]\.(\w+) \| \[0\]$")


def select(answer: Any, path: str) -> Any:
    """The subset of JMESPath the generated scripts use: `Field`, `List[0].Field`, `List[?K=='v'].Field | [0]`."""
    picked = _PICK.match(path)
    if picked:
        items, key, value, wanted = picked.groups()
        return next((item[wanted] for item in answer[items] if item.get(key) == value), None)
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
        if match is None:
            raise ValueError(f"unsupported --filter {path!r}")
        answer = answer[match.group(1)]
        if match.group(2) is not None:
            answer = answer[int(match.group(2))]
    return answer


def run(script: str, call: Callable[[str, str, dict[str, Any]], dict[str, Any]]) -> list[Command]:
    """Run a script line by line through `call(service, action, params)` (a real SDK client): as the owner would."""
    variables: dict[str, str] = {}
    done = []
    for line in filter(None, (raw.strip() for raw in script.splitlines())):
        command = parse_line(line, variables)
        answer = call(command.service, command.action, command.params)
        if command.keep:
            variables[command.keep] = str(select(answer, command.filter or ""))
        done.append(command)
    return done


def run_with_keys(script: str, endpoint: str, secret_id: str, secret_key: str,
                  region: str = "ap-guangzhou") -> list[Command]:
    """Run a script as the owner of these keys would in Cloud Shell: each call through the real SDK."""
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    clients: dict[str, CommonClient] = {}

    def call(service: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if service not in clients:
            clients[service] = CommonClient(service, schema.version(service), credential.Credential(
                secret_id, secret_key), region, profile)
        return clients[service].call_json(action, params)["Response"]

    return run(script, call)

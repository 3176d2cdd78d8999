"""Write what is generated from the configuration: docs/configuration.md from the settings model
(core/config.py: every key with its type, default, the environment variable the shipped app.yaml files read it
from, and the field's docstring), and the Kubernetes ConfigMap holding deploy/app.production.yaml.

Run `scripts/gen-config-docs` after adding or changing a key or the production template;
tests/deploy/test_config_docs.py fails while a file differs from what this writes. `--stdout` prints the docs
instead of writing.
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.config import Settings

OUTPUT = REPO / "docs" / "configuration.md"
CONFIGMAP = REPO / "deploy" / "kubernetes" / "configmap.yaml"
PRODUCTION = "deploy/app.production.yaml"
CONFIG_FILES = ("app.yaml", PRODUCTION)
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

HEADER = """\
# Configuration reference

<!-- Generated from core/config.py by scripts/gen-config-docs: edit the docstrings there, not this file. -->

dtsbot reads one YAML file (`dtsbot serve --config app.yaml`). Any value may be a reference `${NAME}` to an
environment variable, or `${NAME:-default}`; the *env var* column names the variable that the shipped
`app.yaml` (the sandbox demo) and `deploy/app.production.yaml` (the production template) use for the key. An
unknown key is an error; every problem is reported as `key.path: what is wrong`. `dtsbot check --config FILE`
validates a file and what it names. Secrets (type *secret*) never reach Slack, the logs or the database.
"""


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(get_args(annotation))
    return annotation, False


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _type(info: FieldInfo) -> str:
    annotation, optional = _plain(info.annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        text = " \\| ".join(f"`{value}`" for value in get_args(annotation))
    elif origin is list:
        text = f"list of {_noun(get_args(annotation)[0])}s"
    elif origin is dict:
        text = f"map of {_noun(get_args(annotation)[1])}s"
    else:
        text = _noun(annotation)
    bounds = [f"{symbol} {_number(getattr(meta, attr))}" for meta in info.metadata
              for kind, attr, symbol in ((Ge, "ge", "≥"), (Gt, "gt", ">"), (Le, "le", "≤"), (Lt, "lt", "<"))
              if isinstance(meta, kind)]
    return ", ".join([text, *bounds]) + (" (optional)" if optional else "")


def _noun(annotation: Any) -> str:
    if annotation is SecretStr:
        return "secret"
    if _model(annotation) is not None:
        return "section"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(annotation, str(annotation))


def _number(value: float) -> str:
    return f"{value:g}"


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "every key's default"
    if isinstance(value, float):
        return f"`{_number(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value in ([], {}):
        return "empty"
    return f"`{value}`"


def _paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo, str | None]]:
    """(key path, field, its keys' prefix when it is a section) for every field, depth first; a list's keys are
    `path[].key`, a map's `path.<instance id>.key`."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation, _ = _plain(info.annotation)
        inner, suffix = annotation, ""
        if get_origin(annotation) is list:
            inner, suffix = get_args(annotation)[0], "[]"
        elif get_origin(annotation) is dict:
            inner, suffix = get_args(annotation)[1], ".<instance id>"
        nested = _model(inner)
        yield path, info, None if nested is None else f"{path}{suffix}"
        if nested is not None:
            yield from _paths(nested, f"{path}{suffix}.")


def _references(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(generalised key path, variable name) of each `${NAME}` in a loaded app.yaml."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            step = ".<instance id>" if path == "databases" else f".{key}" if path else str(key)
            yield from _references(value, f"{path}{step}")
    elif isinstance(tree, list):
        for item in tree:
            yield from _references(item, f"{path}[]")
    elif isinstance(tree, str):
        for name in _REFERENCE.findall(tree):
            yield path, name


def environment_variables(repo: Path = REPO) -> dict[str, list[str]]:
    """Key path → the variables the shipped configuration files read it from, in file order."""
    found: dict[str, list[str]] = {}
    for name in CONFIG_FILES:
        for path, variable in _references(yaml.safe_load((repo / name).read_text(encoding="utf-8"))):
            if variable not in found.setdefault(path, []):
                found[path].append(variable)
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


TABLE = ["| key | type | default | env var | description |", "|---|---|---|---|---|"]


def render(repo: Path = REPO) -> str:
    """The whole of docs/configuration.md: one table per section, in the model's order."""
    variables = environment_variables(repo)
    sections: dict[str, list[str]] = {"": ["## Top level", "", *TABLE]}
    for path, info, keys in _paths(Settings):
        if keys is not None:
            sections[keys] = [f"## `{keys}`", "", _cell(info.description or ""), "",
                              f"{_type(info).capitalize()}; default: {_default(info)}.", "", *TABLE]
            continue
        env = ", ".join(f"`{v}`" for v in variables.get(path, []))
        sections[path.rpartition(".")[0]].append(f"| `{path}` | {_type(info)} | {_default(info)} | {env} | "
                                f"{_cell(info.description or '')} |")
    top = sections.pop("")
    body = [line for rows in sections.values() for line in [*rows, ""]]
    return "\n".join([HEADER, *body, *top]) + "\n"


def configmap(repo: Path = REPO) -> str:
    """deploy/kubernetes/configmap.yaml: the production template as the pods' app.yaml, and the channel."""
    template = (repo / PRODUCTION).read_text(encoding="utf-8")
    body = "".join(f"    {line}" if line.strip() else "\n" for line in template.splitlines(keepends=True))
    return (f"# Generated from {PRODUCTION} by scripts/gen-config-docs: edit the template (or replace this\n"
            "# ConfigMap with your own app.yaml), then regenerate. DTSBOT_CHANNEL comes from `channel`.\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dtsbot-config\n  labels:\n"
            "    app.kubernetes.io/name: dtsbot\ndata:\n"
            '  channel: "C0123ABCD"  # EDIT: the Slack channel ID\n'
            f"  app.yaml: |\n{body}")


def main(argv: list[str]) -> int:
    text = render()
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    CONFIGMAP.write_text(configmap(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

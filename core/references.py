"""`${NAME}` references in app.yaml, resolved once when the file is read.

For each `${NAME}` or `${NAME:-default}` in a string value, in this order (`NAME` and `NAME_FILE` both set is
an error, as in the official container images: a stale variable would silently hide a rotated file):
1. the environment variable `NAME`; set but empty is an error naming the variable and the key, unless the
   reference is `${NAME:-}` (an empty default says "this key may be empty": an optional key such as
   `slack.app_token`);
2. else, when `NAME_FILE` is set, that file's contents with the trailing newline and a leading UTF-8 byte-order
   mark removed (the container convention for secrets mounted as files); an empty file is an error as in 1.;
3. else the `:-default` (meant for the sandbox: `dtsbot serve` and `check` refuse the published sandbox
   secrets unless the endpoints are a sandbox's, see core/sandbox_secrets.py);
4. else an error: `${NAME}` is not set.
Errors name the key and the variable, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
FILE_SUFFIX = "_FILE"


class _Unresolved(Exception):
    pass


def _from_file(name: str, path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is no part of a secret
    except IsADirectoryError:
        raise _Unresolved(f"{name}{FILE_SUFFIX}={path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise _Unresolved(f"{name}{FILE_SUFFIX}={path} is not UTF-8 text") from None
    except OSError as error:
        raise _Unresolved(f"{name}{FILE_SUFFIX}={path} cannot be read ({error.strerror or type(error).__name__})") \
            from None
    return text.rstrip("\r\n")


def resolve_reference(name: str, default: str | None, environ: Mapping[str, str]) -> str:
    """The value of one `${NAME[:-default]}` (see the module's order), or _Unresolved saying why not."""
    optional = default == ""
    if name in environ and environ.get(name + FILE_SUFFIX):
        raise _Unresolved(f"both {name} and {name}{FILE_SUFFIX} are set; unset one (a stale variable would hide "
                          "the file)")
    if name in environ:
        if environ[name] == "" and not optional:
            raise _Unresolved(f"${{{name}}} is set but empty; give it a value, or unset it"
                              + (" to use the default" if default is not None else ""))
        return environ[name]
    path = environ.get(name + FILE_SUFFIX)
    if path:
        value = _from_file(name, path)
        if value == "" and not optional:
            raise _Unresolved(f"${{{name}}}: the file {name}{FILE_SUFFIX}={path} is empty")
        return value
    if default is not None:
        return default
    raise _Unresolved(f"${{{name}}} is not set (nor {name}{FILE_SUFFIX})")


def resolve_references(value: Any, environ: Mapping[str, str], path: str = "") -> tuple[Any, list[str]]:
    """The tree with every `${NAME}` in its strings resolved, and `key.path: why` for each one that is not."""
    if isinstance(value, dict):
        out, problems = {}, []
        for key, item in value.items():
            out[key], sub = resolve_references(item, environ, f"{path}.{key}" if path else str(key))
            problems += sub
        return out, problems
    if isinstance(value, list):
        out_list, problems = [], []
        for index, item in enumerate(value):
            new, sub = resolve_references(item, environ, f"{path}[{index}]")
            out_list.append(new)
            problems += sub
        return out_list, problems
    if not isinstance(value, str):
        return value, []
    problems = []

    def replace(match: re.Match[str]) -> str:
        try:
            return resolve_reference(match.group(1), match.group(2), environ)
        except _Unresolved as why:
            problems.append(f"{path}: {why}")
            return ""

    return ENV_REF.sub(replace, value), problems


def defaults(text: str) -> dict[str, str]:
    """Every `${NAME:-default}` with a non-empty default in `text`, as {NAME: default} (the sandbox values)."""
    return {m.group(1): m.group(2) for m in ENV_REF.finditer(text) if m.group(2)}

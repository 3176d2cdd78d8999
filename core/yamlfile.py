"""app.yaml's one YAML reader: PyYAML's safe loader, except that a key given twice in one mapping is an error.

`yaml.safe_load` keeps the last of two equal keys without a word, so a second `approvers:` under an account
would silently replace the reviewed one. Here the document is composed first, every mapping is walked for a
repeated key (reported with its key path and both line numbers), and only then constructed. Errors never quote
the file's text: it may hold keys and tokens.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class YamlError(Exception):
    """The text is not valid YAML; the message names where (line, column), not what."""


class DuplicateKeys(YamlError):
    """A mapping repeats a key; `problems`: `key.path: duplicate key (lines A and B); keep one`, each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def duplicate_keys(node: Node | None, path: str = "") -> list[str]:
    """Each key repeated in a mapping of the tree under `node`: `key.path: duplicate key (lines A and B)`."""
    if isinstance(node, SequenceNode):
        return [p for index, item in enumerate(node.value) for p in duplicate_keys(item, f"{path}[{index}]")]
    if not isinstance(node, MappingNode):
        return []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for key, value in node.value:
        name = str(key.value) if isinstance(key, ScalarNode) else "(complex key)"
        where = f"{path}.{name}" if path else name
        line = key.start_mark.line + 1
        if name in first_line and name != "<<":
            problems.append(f"{where}: duplicate key (lines {first_line[name]} and {line}); keep one")
        first_line.setdefault(name, line)
        problems += duplicate_keys(value, where)
    return problems


def load_yaml(text: str) -> Any:
    """The document in `text`; DuplicateKeys naming every repeated key, or YamlError (line and column)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = duplicate_keys(node)
        if problems:
            raise DuplicateKeys(problems)
        return loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:  # never echo PyYAML's snippet of the file
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise YamlError(f"not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()

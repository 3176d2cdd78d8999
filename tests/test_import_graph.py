"""The top-level packages import one way: bot → handlers → core → storage, and the sandbox stands alone.

Every module's imports (also those inside functions) are read with `ast`; any cycle between packages fails,
naming the module that makes each edge of it.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "core", "storage", "sandbox")


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def package_graph() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) → the modules that make that edge."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
                imported = name.split(".")[0]
                if imported in PACKAGES and imported != package:
                    edges[package, imported].add(str(path.relative_to(ROOT)))
    return edges


def cycle_of(edges: dict[tuple[str, str], set[str]]) -> list[str]:
    """A description of each edge of one cycle between packages, or [] when there is none."""
    graph: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for importer, imported in edges:
        graph[importer].add(imported)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        cycle = error.args[1]  # [a, b, ..., a]: each depends on the next
        return [f"{b} → {a} ({', '.join(sorted(edges[b, a]))})" for a, b in itertools.pairwise(cycle)]
    return []


def test_the_packages_import_one_way():
    cycle = cycle_of(package_graph())
    assert not cycle, "package cycle: " + "; ".join(cycle)


def test_storage_is_pure_persistence_and_the_sandbox_stands_alone():
    importers = {importer: set() for importer in PACKAGES}
    for importer, imported in package_graph():
        importers[importer].add(imported)
    assert importers["storage"] == importers["sandbox"] == set()
    assert not importers["core"] & {"handlers", "bot"} and "bot" not in importers["handlers"]


def test_a_cycle_is_reported_with_the_modules_that_make_it():
    """The walker sees imports inside functions too, so a late import cannot hide a cycle."""
    tree = ast.parse("def f():\n    from core.workflow import State\n    import storage.models\n")
    assert _imported(tree) == {"core.workflow", "storage.models"}
    cycle = cycle_of({("core", "storage"): {"core/engine.py"}, ("storage", "core"): {"storage/repository.py"}})
    assert sorted(cycle) == ["core → storage (core/engine.py)", "storage → core (storage/repository.py)"]

"""docs/configuration.md and the Kubernetes ConfigMap are generated (scripts/gen-config-docs): this fails when
either differs from what the script writes now — a key added, changed or documented without regenerating — and
when a key has no docstring to show."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
STALE = "is stale: run scripts/gen-config-docs and commit the result"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config_docs", REPO / "scripts" / "gen_config_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_md_is_what_the_generator_writes() -> None:
    assert (REPO / "docs" / "configuration.md").read_text(encoding="utf-8") == generator().render(), \
        f"docs/configuration.md {STALE}"


def test_the_configmap_holds_the_production_template() -> None:
    assert (REPO / "deploy" / "kubernetes" / "configmap.yaml").read_text(encoding="utf-8") == generator().configmap(), \
        f"deploy/kubernetes/configmap.yaml {STALE}"


def test_every_key_has_a_description_and_a_row() -> None:
    module = generator()
    text = module.render()
    for path, info, keys in module._paths(module.Settings):
        assert info.description, f"{path}: give the field a docstring (it is its line in docs/configuration.md)"
        assert f"`{keys or path}`" in text


def test_a_new_key_makes_the_file_stale(monkeypatch) -> None:
    """The drift check can fail: a key added to a section changes the rendering."""
    module = generator()
    before = module.render()

    class Extended(module.Settings):  # type: ignore[name-defined,misc]
        extra_key: int = 1
        """A key nobody documented yet."""

    monkeypatch.setattr(module, "Settings", Extended)
    assert issubclass(Extended, BaseModel) and module.render() != before
    assert "| `extra_key` | integer | `1` |  | A key nobody documented yet. |" in module.render()


def test_env_vars_come_from_the_shipped_files() -> None:
    variables = generator().environment_variables()
    assert variables["slack.bot_token"] == ["SLACK_BOT_TOKEN"]
    assert variables["metrics.port"] == ["DTSBOT_METRICS_PORT"]
    assert variables["databases.<instance id>.password"] == ["SOURCE_DB_PASSWORD", "TARGET_DB_PASSWORD"]


def test_a_variable_the_docs_name_is_read_by_the_production_template_too() -> None:
    """docs/configuration.md's env var column is the union of the two shipped files; an operator on the
    production template who sets a variable it names (DTSBOT_POLL_SECONDS, which the README asks to raise for
    many tasks) must not be silently ignored. Variables of keys the template leaves commented out (the executor's
    keys) appear in those comments."""
    template = (REPO / "deploy" / "app.production.yaml").read_text()
    named = {variable for variables in generator().environment_variables().values() for variable in variables}
    assert not [v for v in sorted(named) if "${" + v not in template]

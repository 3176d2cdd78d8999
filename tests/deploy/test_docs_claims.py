"""What the operator's documents (README, docs/, deploy/, the Dockerfile) say about this repository is true: every
path they name exists, a test they call expected to fail is one, the alert rules describe the labels the bot
really sets, every `dtsbot …` command, metric and configuration key they name exists, the runbook covers every
state, and every link to a section names a heading."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from bot.cli import build_parser
from core.workflow import State
from tests.deploy.test_observability import exported

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([REPO / "README.md", REPO / "Dockerfile", *(REPO / "docs").glob("*.md"),
                    *(p for p in (REPO / "deploy").rglob("*") if p.is_file() and "schemas" not in p.parts)])
PATH = re.compile(r"(?<![\w/.-])((?:scripts|tests|deploy|docs|bot|core|storage|handlers|sandbox)/[\w./-]*[\w/])")
MADE_BY_THE_OPERATOR = ("deploy/secrets",)  # docs/deploy.md tells the operator to create it


def test_every_path_the_documents_name_exists() -> None:
    missing = [f"{document.relative_to(REPO)}: {path}" for document in DOCUMENTS
               for path in PATH.findall(document.read_text())
               if not path.rstrip("/").startswith(MADE_BY_THE_OPERATOR) and not (REPO / path).exists()]
    assert not missing, missing


def test_a_test_the_deploy_guide_calls_expected_to_fail_is_marked_so() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    marked = [test for test in (REPO / "tests" / "deploy").glob("test_*.py")
              if test != Path(__file__) and "mark.xfail" in test.read_text()]
    assert "xfail" not in guide or marked, "docs/deploy.md says a deploy test is xfail; none is"


def test_the_rules_describe_the_outcome_label_as_the_bot_sets_it() -> None:
    """`outcome` of dtsbot_cloud_calls_total is "ok" or "error" (core.cloud.CloudCall), not Tencent's error code:
    the code is in the logs and the request's audit trail."""
    rules = yaml.safe_load((REPO / "deploy" / "prometheus-rules.yaml").read_text())
    texts = [text for group in rules["groups"] for rule in group["rules"]
             for text in (rule.get("annotations") or {}).values()]
    assert not [text for text in texts if re.search(r"outcome[^.]*error code", text)], texts


# -- what the operator's documents name: commands, metrics, keys, states, links -------------------------------------
COMMAND = re.compile(r"`(dtsbot(?: [^`]*)?)`")
METRIC = re.compile(r"`(dtsbot_[a-z_]+)(?:\{[^`]*\})?`")
KEY = re.compile(r"`((?:slack|storage|scheduler|tencentcloud|dts|approvals|metrics|logging|secrets_manager)\.[a-z_]+)`")
LINK = re.compile(r"\]\(([^)#\s]*\.md)?#([^)\s]+)\)")
MARKDOWN = [document for document in DOCUMENTS if document.suffix == ".md"]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((dict(action.choices) for action in parser._actions
                 if isinstance(action, argparse._SubParsersAction)), {})


def _command_problem(text: str) -> str | None:
    """Why `dtsbot …` (a documented command line) is not one the CLI takes: an unknown subcommand, choice or
    option. `a|b` names alternatives; `[`, `]` mark optional parts; upper-case words are values (ID, NAME)."""
    parsers = [build_parser()]
    words = [word for word in (w.strip("[]") for w in text.split()[1:]) if word]
    while words and not words[0].startswith("-") and all(commands := [_subcommands(p) for p in parsers]):
        names = words.pop(0).split("|")
        if any(name not in found for name in names for found in commands):
            return f"no subcommand {'|'.join(names)}"
        parsers = [found[name] for found in commands for name in names]
    actions = [action for parser in parsers for action in parser._actions]
    flags = {flag for action in actions for flag in action.option_strings}
    choices = {str(c) for action in actions if not action.option_strings for c in (action.choices or ())}
    if choices and words and not words[0].startswith("-") and not set(words[0].split("|")) <= choices:
        return f"{words[0]} is not one of {sorted(choices)}"
    wrong = [word for word in words if word.startswith("--") and word.split("=")[0] not in flags]
    return f"no option {', '.join(wrong)}" if wrong else None


def test_every_dtsbot_command_the_documents_name_exists() -> None:
    wrong = [f"{document.relative_to(REPO)}: `{text}`: {problem}" for document in DOCUMENTS
             for text in COMMAND.findall(document.read_text()) if (problem := _command_problem(text))]
    assert not wrong, wrong


def test_a_misspelt_command_is_caught() -> None:
    assert _command_problem("dtsbot requests cancle ID --force")
    assert _command_problem("dtsbot requests cancel ID --forse")
    assert _command_problem("dtsbot db downgrade")
    assert _command_problem("dtsbot requests list|show|cancel --force") is None


def test_every_metric_the_documents_name_is_exported() -> None:
    names = exported()
    unknown = [f"{document.relative_to(REPO)}: {name}" for document in MARKDOWN
               for name in METRIC.findall(document.read_text()) if name not in names]
    assert not unknown, unknown


def test_every_configuration_key_the_documents_name_exists() -> None:
    reference = (REPO / "docs" / "configuration.md").read_text()
    unknown = [f"{document.relative_to(REPO)}: {key}" for document in MARKDOWN
               for key in KEY.findall(document.read_text()) if f"`{key}`" not in reference]
    assert not unknown, unknown


def test_the_runbook_covers_every_state() -> None:
    runbook = (REPO / "docs" / "operations.md").read_text()
    assert not [state.value for state in State if f"`{state.value}`" not in runbook]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_to_a_section_names_a_heading() -> None:
    """A link such as `../README.md#who-may-do-what` breaks silently when someone renames the heading."""
    broken = []
    for document in MARKDOWN:
        for target, anchor in LINK.findall(document.read_text()):
            linked = (document.parent / target).resolve() if target else document
            headings = {_anchor(line.lstrip("#")) for line in linked.read_text().splitlines()
                        if line.startswith("#")}
            if anchor not in headings:
                broken.append(f"{document.relative_to(REPO)}: {target}#{anchor}")
    assert not broken, broken

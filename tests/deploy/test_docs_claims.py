"""What the operator's documents (README, docs/, deploy/, the Dockerfile) say about this repository is true: every
path they name exists, a test they call expected to fail is one, and the alert rules describe the labels the bot
really sets."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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

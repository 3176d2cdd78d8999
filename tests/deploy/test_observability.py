"""The alert rules (deploy/prometheus-rules.yaml) and the Grafana dashboard (deploy/grafana-dashboard.json) use
only metrics the bot exports, with label values it really sets: every expression is parsed as PromQL, each
metric it selects must be in a real `/metrics` exposition, and the stuck-request rule watches exactly the
states in which the bot itself works."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import Metrics
from core.workflow import ACTIVE, State
from storage.gauges import Gauges

REPO = Path(__file__).resolve().parents[2]
RULES = yaml.safe_load((REPO / "deploy" / "prometheus-rules.yaml").read_text())
DASHBOARD = json.loads((REPO / "deploy" / "grafana-dashboard.json").read_text())


def exported() -> set[str]:
    """Every sample name of a `/metrics` exposition with each metric set at least once."""
    metrics = Metrics(read_database=lambda: Gauges({"running": 1}, {"running": 5.0}, 1, 2.0))
    metrics.cloud_calls.labels("CreateRole", "ok").inc()
    metrics.slack_calls.labels("chat.postMessage", "ok").inc()
    metrics.slack_rate_limited.inc()
    metrics.unrecorded.inc()
    metrics.poll_cycle.observe(0.1)
    metrics.last_tick.set_to_current_time()
    return {sample.name for family in text_string_to_metric_families(metrics.render().decode())
            for sample in family.samples}


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    """The metric selectors of a PromQL expression (a syntax error raises)."""
    found: list[promql_parser.VectorSelector] = []
    promql_parser.walk(promql_parser.parse(expr),
                       lambda node: found.append(node) if isinstance(node, promql_parser.VectorSelector) else None)
    return found


def rule_expressions() -> list[tuple[str, str]]:
    return [(rule.get("alert") or rule["record"], rule["expr"]) for group in RULES["groups"] for rule in group["rules"]]


def panel_expressions() -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in DASHBOARD["panels"] for target in panel["targets"]]


def test_the_rules_cover_what_the_issue_asks_for() -> None:
    names = {name for name, _expr in rule_expressions()}
    assert {"DtsbotRequestStuck", "DtsbotOutboxBacklog", "DtsbotSchedulerNotTicking", "DtsbotCloudErrorRate"} <= names


@pytest.mark.parametrize(("name", "expr"), rule_expressions() + panel_expressions())
def test_each_expression_parses_and_selects_only_exported_metrics(name: str, expr: str) -> None:
    names = exported()
    for selector in selectors(expr):
        assert selector.name in names, f"{name}: {selector.name} is not exported by dtsbot"


@pytest.mark.parametrize(("name", "expr"), rule_expressions() + panel_expressions())
def test_label_values_matched_are_ones_the_bot_sets(name: str, expr: str) -> None:
    states = {state.value for state in State}
    for selector in selectors(expr):
        for matcher in selector.matchers.matchers:
            if matcher.name == "state":
                assert set(matcher.value.split("|")) <= states, f"{name}: unknown state in {matcher.value}"
            elif matcher.name == "outcome":
                assert matcher.value == "ok", f"{name}: cloud and Slack calls succeed with outcome ok"
            else:
                raise AssertionError(f"{name}: unexpected label {matcher.name}")


def test_a_misspelt_metric_is_caught() -> None:
    assert next(s.name for s in selectors("max(dtsbot_outbox_oldest_unsent_age_second) > 1")) not in exported()
    with pytest.raises(ValueError):
        selectors("sum(rate(dtsbot_cloud_calls_total[5m])")


def test_the_stuck_rule_watches_the_states_in_which_the_bot_works_itself() -> None:
    [stuck] = [expr for name, expr in rule_expressions() if name == "DtsbotRequestStuck"]
    [matcher] = [m for s in selectors(stuck) for m in s.matchers.matchers if m.name == "state"]
    # running: DTS paces it (a migration may take days); ready_to_complete is watched while it waits for people,
    # paused waits for people too.
    assert set(matcher.value.split("|")) == {state.value for state in ACTIVE - {State.RUNNING, State.PAUSED,
                                                                                 State.READY_TO_COMPLETE}}


def test_the_rules_file_follows_the_rule_file_schema() -> None:
    schema = json.loads((REPO / "deploy" / "schemas" / "prometheus-rules.schema.json").read_text())
    jsonschema.validate(RULES, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"groups": [{"name": "x", "rules": [{"alert": "A", "expr": "up", "fro": "5m"}]}]}, schema)


def test_the_dashboard_takes_its_datasource_as_an_input() -> None:
    """Importable into any Grafana: no datasource uid of ours inside, the Prometheus one is chosen on import."""
    uids = {json.dumps(panel.get("datasource")) for panel in DASHBOARD["panels"]} | {
        json.dumps(target.get("datasource")) for panel in DASHBOARD["panels"] for target in panel["targets"]}
    assert uids == {json.dumps({"type": "prometheus", "uid": "${DS_PROMETHEUS}"})}
    assert [i["name"] for i in DASHBOARD["__inputs"]] == ["DS_PROMETHEUS"]
    assert len({panel["id"] for panel in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])
    assert all(re.fullmatch(r"[A-Z]", t["refId"]) for p in DASHBOARD["panels"] for t in p["targets"])

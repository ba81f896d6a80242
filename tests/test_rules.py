"""rules/ and dashboards/: promtool checks and unit tests, a lint, and every PromQL expression parsed by a
real Prometheus."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from tests.servers import get_json, http_get, prometheus, require

REPO = Path(__file__).resolve().parent.parent
RULE_FILES = sorted((REPO / "rules").glob("*.yml"))
TEST_FILES = sorted((REPO / "rules" / "tests").glob("*.yml"))
DASHBOARDS = sorted((REPO / "dashboards").glob("*.json"))
SEVERITIES = {"critical", "warning", "info"}
TEMPLATE_FIELD = re.compile(r"\{\{.*?\}\}")
# Left once the fields are gone, a lowercase word ("is", "on", "battery") is English prose; acronyms and
# product names (UPS, SNMP Trap, C-ECHO, RabbitMQ, Java) are what an engineer says in Chinese too.
ENGLISH = re.compile(r"\b[a-z]{2,}\b")
KEPT = ("ci", "service")


def _rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def _alerts() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, r) for p, r in _rules() if "alert" in r]


def test_there_are_rules_and_tests() -> None:
    assert RULE_FILES and TEST_FILES
    assert len(_alerts()) >= 4


def test_promtool_check_rules() -> None:
    promtool = require("promtool")
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(test_file: Path) -> None:
    promtool = require("promtool")
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, cwd=test_file.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("path", "rule"), _alerts(), ids=lambda v: v["alert"] if isinstance(v, dict) else v.name
)
def test_alert_lint(path: Path, rule: dict[str, Any]) -> None:
    name = rule["alert"]
    assert rule.get("labels", {}).get("severity") in SEVERITIES, f"{path.name}: {name}: severity label"
    annotations = rule.get("annotations", {})
    for key in ("summary", "description"):
        assert annotations.get(key, "").strip(), f"{path.name}: {name}: {key} annotation is missing"
    zh = annotations.get("summary_zh", "")
    assert zh.strip(), f"{path.name}: {name}: summary_zh annotation is missing (the page's title in Chinese)"
    english = ENGLISH.findall(TEMPLATE_FIELD.sub(" ", zh))
    assert not english, f"{path.name}: {name}: summary_zh holds English {english}: say it in Chinese"
    fields = set(TEMPLATE_FIELD.findall(annotations["summary"]))
    assert set(TEMPLATE_FIELD.findall(zh)) == fields, f"{path.name}: {name}: summary_zh names other fields"
    expr = " ".join(rule["expr"].split())
    for clause in re.findall(r"\bby\s*\(([^)]*)\)", expr):
        labels = {x.strip() for x in clause.split(",")}
        missing = [k for k in KEPT if k not in labels]
        assert not missing, f"{path.name}: {name}: aggregation by ({clause}) drops {missing}"
    for clause in re.findall(r"\bwithout\s*\(([^)]*)\)", expr):
        dropped = [k for k in KEPT if k in {x.strip() for x in clause.split(",")}]
        assert not dropped, f"{path.name}: {name}: aggregation without ({clause}) drops {dropped}"


def _expected_alerts() -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for test_file in TEST_FILES:
        for case in yaml.safe_load(test_file.read_text()).get("tests", []):
            for check in case.get("alert_rule_test", []):
                for alert in check.get("exp_alerts") or []:
                    found.setdefault(check["alertname"], []).append(alert.get("exp_labels", {}))
    return found


def test_every_alert_is_unit_tested_and_keeps_ci_and_service() -> None:
    expected = _expected_alerts()
    problems = []
    for path, rule in _alerts():
        name = rule["alert"]
        if name not in expected:
            problems.append(f"{path.name}: {name} has no promtool test that expects it to fire")
        elif not all(all(k in labels for k in KEPT) for labels in expected[name]):
            problems.append(f"{path.name}: {name} fires in a test without the ci and service labels")
    assert not problems, "\n".join(problems)


def _dashboard_exprs() -> Iterator[tuple[str, str]]:
    def walk(node: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str) and node["expr"].strip():
                yield where, node["expr"]
            for key, value in node.items():
                yield from walk(value, f"{where}/{node.get('title', key)}" if key == "panels" else where)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, where)

    for path in DASHBOARDS:
        yield from walk(json.loads(path.read_text()), path.name)


def _grafana_to_promql(expr: str) -> str:
    """Replace Grafana's variables by values Prometheus accepts, for a parse check."""
    expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
    return re.sub(r"\$\{?\w+(:\w+)?\}?", ".*", expr)


@pytest.fixture(scope="module")
def empty_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prometheus("global: {scrape_interval: 1m}\n", tmp_path_factory.mktemp("prom")) as url:
        yield url


def test_every_expression_parses_on_a_real_prometheus(empty_prometheus: str) -> None:
    exprs = [(f"{p.name}: {r.get('alert') or r.get('record')}", r["expr"]) for p, r in _rules()]
    exprs += [(where, _grafana_to_promql(e)) for where, e in _dashboard_exprs()]
    assert len(exprs) > len(list(_rules()))  # the dashboards hold expressions too
    problems = []
    for where, expr in exprs:
        status, body = http_get(f"{empty_prometheus}/api/v1/query?{urlencode({'query': expr})}")
        if status != 200:
            problems.append(f"{where}: {json.loads(body).get('error', body)}")
    assert not problems, "\n".join(problems)
    # The check can fail: a broken expression is refused.
    status, _ = http_get(f"{empty_prometheus}/api/v1/query?{urlencode({'query': 'sum by (ci'})}")
    assert status == 400
    assert get_json(f"{empty_prometheus}/api/v1/status/buildinfo")["data"]["version"]

"""Every query of the generated dashboards returns data from a demo-like stack on free ports (with a fault
injected, so the fault panels show it too), and the status board shows what is failing. Every dashboard on
the real demo, on its fixed ports: test_demo_dashboards.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.deploy.stack import API_TOKEN, REPO, Stack, running_stack
from tests.servers import promql, wait_for

# The dashboards whose sources all run in this stack (network.json needs the demo's simulated SNMP devices).
DASHBOARDS = ("status_board.json", "incidents.json", "inventory.json")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def _queries() -> list[tuple[str, str]]:
    found = []
    for name in DASHBOARDS:
        for panel in json.loads((REPO / "dashboards" / name).read_text())["panels"]:
            for target in panel.get("targets", []):
                expr = re.sub(r"\$__rate_interval|\$__range|\$__interval", "1m", target["expr"])
                found.append((f"{name}: {panel['title']}", expr.replace("$service", ".*")))
    return found


def _by(stack: Stack, expr: str, label: str) -> dict[str, float]:
    return {s["metric"].get(label, ""): float(s["value"][1]) for s in promql(stack.prometheus, expr)}


def _panel_expr(dashboard: str, title: str) -> str:
    for panel in json.loads((REPO / "dashboards" / dashboard).read_text())["panels"]:
        if panel["title"] == title:
            return str(panel["targets"][0]["expr"])
    raise LookupError(title)


def test_every_panel_returns_data(stack: Stack) -> None:
    # One incident acknowledged and resolved gives the time-to-acknowledge and -resolve panels a sample.
    api = {"Authorization": f"Bearer {API_TOKEN}"}

    def incidents() -> list[dict[str, Any]]:
        got = requests.get(f"{stack.router}/api/v1/incidents", headers=api, timeout=5)
        return list(got.json()["incidents"]) if got.ok else []

    first = wait_for(lambda: (found := incidents())[1:] and found, 90, "two incidents in the router")[-1]
    incident = f"{stack.router}/api/v1/incidents/{first['id']}"
    assert requests.post(f"{incident}/acknowledge", headers=api, timeout=5).ok
    assert requests.post(f"{incident}/resolve", headers=api, json={"note": "test"}, timeout=5).ok

    queries = _queries()
    assert len(queries) >= 25

    def empty() -> list[str]:
        return [where for where, expr in queries if not promql(stack.prometheus, expr)]

    missing: list[str] = []

    def all_have_data() -> bool:
        missing[:] = empty()
        return not missing

    try:
        wait_for(all_have_data, 120, "every panel to return data")
    except pytest.fail.Exception:
        pytest.fail("panels without data:\n" + "\n".join(missing))


def test_status_board_shows_the_failing_lis_and_the_working_emr(stack: Stack) -> None:
    workflows = _panel_expr("status_board.json", "Clinical workflows")

    def board() -> dict[str, float]:
        values = _by(stack, workflows, "workflow")
        return values if values.get("clinical documentation") == 1 and "order to result" in values else {}

    values = wait_for(board, 90, "the EMR probe and the failing LIS check on the board")
    # The LIS interface does not answer: both LIS workflows are down.
    assert values["order to result"] == 0
    assert values["critical value notification"] == 0
    # PACS has no check in this stack: its workflows show as not monitored, not as working.
    assert values["image reading"] == -1
    assert values["alerting"] == 1  # Prometheus, Alertmanager, the inventory exporter and the router answer

    critical = _by(stack, _panel_expr("status_board.json", CRITICAL), "name")
    high = _by(stack, _panel_expr("status_board.json", HIGH), "name")
    assert set(critical) >= {"Emergency Department", "Intensive Care Unit"}
    assert high["Clinical Laboratory"] == 0  # relies on the LIS
    assert critical["Emergency Department"] == 0  # the ED relies on the LIS too
    failing = promql(stack.prometheus, _panel_expr("status_board.json", "Failing checks"))
    assert [s["metric"]["ci"] for s in failing] == [stack.broken_ci]
    assert failing[0]["metric"]["owner"] == "medtech"


CRITICAL = "Critical departments"
HIGH = "High-criticality departments"


def test_incidents_dashboard_counts_the_routers_incidents(stack: Stack) -> None:
    expr = _panel_expr("incidents.json", "Open incidents by team")
    teams = wait_for(lambda: _by(stack, expr, "team"), 90, "open incidents by team")
    assert sum(teams.values()) >= 1
    failures = _panel_expr("incidents.json", "Failed notification attempts by channel")
    wait_for(lambda: _by(stack, failures, "channel").get("pager", 0) >= 1, 60, "a failed page counted")

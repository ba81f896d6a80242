"""Every panel of every dashboard in dashboards/ shows data from the real `make demo` stack's Prometheus.

The demo runs on its fixed ports (docs/demo-ports.md), like tests/test_demo.py; stop a running `make demo`
first. Panels that show only faults (interfaces with errors, failing checks) or what the demo does not have
are empty: they are listed below with the reason, and must still answer; tests/deploy/test_dashboards_data.py
shows the status board's with a fault injected.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from hospmon.demo import PROMETHEUS, check_stack
from tests.servers import get_json, http_get, promql, wait_for

REPO = Path(__file__).resolve().parents[2]
DEMO_PORTS = (19090, 19093, 19101, 19180)
ROUTER = "http://127.0.0.1:19180"
# (dashboard, panel title): empty in a healthy demo, and why.
EMPTY_IN_THE_DEMO = {
    ("network.json", "Errors and discards per second"): "only interfaces with errors",
    ("network.json", "Interfaces down while administratively up"): "only faults",
    ("network.json", "Disks: days until full at the 6-hour growth rate"): "only disks that grow",
    ("status_board.json", "Failing checks"): "only faults",
    ("his_emr.json", "Business queries failing"): "only faults",
    ("his_emr.json", "TLS certificates: days left"): "the demo's web front ends speak plain HTTP",
    ("his_emr.json", "Settlement round trip"): "only while the simulated clinics are open (Asia/Shanghai)",
    ("database.json", "Probe failures"): "only faults",
    ("database.json", "Replication lag"): "the demo's databases have no replicas",
    ("database.json", "Wait time by class (Oracle)"): "the demo has no Oracle database",
    ("database.json", "Tablespace use against maximum (Oracle)"): "the demo has no Oracle database",
    ("estate.json", "Failing reach probes and why"): "only faults",
    ("estate.json", "UPS states that need someone"): "only faults",
    ("estate.json", "Array health"): "only faults, and the demo simulates no NetApp array",
    ("estate.json", "Volume fill"): "the demo simulates no NetApp array",
}


def _grafana_to_promql(expr: str) -> str:
    expr = re.sub(r"\$__rate_interval|\$__interval|\$__range", "1m", expr)
    return re.sub(r"\$\{?\w+(:\w+)?\}?", ".*", expr)


def _panels() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in sorted((REPO / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs = [_grafana_to_promql(t["expr"]) for t in panel.get("targets", []) if t.get("expr")]
            if exprs:
                found.append((path.name, panel["title"], exprs))
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for port in DEMO_PORTS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"port {port} is in use: stop the running `make demo` before the tests")
    run = tmp_path_factory.mktemp("demo") / "run"
    log = run.parent / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hospmon.cli", "demo", "--run-dir", str(run)],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"the demo exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return "Press Ctrl-C to stop." in log.read_text()

        wait_for(ready, 300, "the demo to start")
        problems = check_stack()
        assert not problems, problems
        # An operator acknowledges and resolves one incident: the time-to-acknowledge and -resolve panels
        # have a sample.
        actor_token = (run / "router" / "api-tokens").read_text().split()
        api = {"Authorization": f"Bearer {actor_token[1]}"}

        def incidents() -> list[dict[str, Any]]:
            got = requests.get(f"{ROUTER}/api/v1/incidents", headers=api, timeout=5)
            return list(got.json()["incidents"]) if got.ok else []

        first = wait_for(lambda: (found := incidents())[1:] and found, 120, "two incidents in the router")[-1]
        incident = f"{ROUTER}/api/v1/incidents/{first['id']}"
        assert requests.post(f"{incident}/acknowledge", headers=api, timeout=5).ok
        assert requests.post(f"{incident}/resolve", headers=api, json={"note": "test"}, timeout=5).ok
        yield PROMETHEUS
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the launcher stops every part it started
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_every_dashboard_panel_shows_data_from_the_demo(demo: str) -> None:
    panels = _panels()
    assert {name for name, _, _ in panels} >= {"status_board.json", "incidents.json", "inventory.json"}
    for name, title, exprs in panels:
        for expr in exprs:
            status, body = http_get(f"{demo}/api/v1/query?{urlencode({'query': expr})}")
            assert status == 200, f"{name}: {title}: {body[:300]!r}"
    empty: list[str] = []

    def all_show_data() -> bool:
        empty[:] = [
            f"{name}: {title}"
            for name, title, exprs in panels
            if (name, title) not in EMPTY_IN_THE_DEMO and not any(promql(demo, e) for e in exprs)
        ]
        return not empty

    try:
        wait_for(all_show_data, 180, "every dashboard panel to show data")
    except pytest.fail.Exception:
        pytest.fail("panels without data in the demo:\n" + "\n".join(empty))
    # The router's incidents reach the incidents dashboard: the demo's warranty alerts are open incidents.
    assert sum(float(s["value"][1]) for s in promql(demo, "hospmon_router_incidents_open")) >= 1
    assert get_json(f"{demo}/api/v1/status/buildinfo")["data"]["version"]

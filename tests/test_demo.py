"""`make demo`, run on its own ports (an offset) so it passes beside a running `make demo`: the stack comes up
with no boot noise, the scripted morning becomes its incidents, every README link answers, and every panel
of every dashboard in dashboards/ shows data from its Prometheus.

Panels that show only faults (interfaces with errors, failing checks) or what the demo does not have are
empty: they are listed below with the reason, and must still answer; tests/deploy/test_dashboards_data.py
shows the status board's with a fault injected.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from demo import ports, story
from demo.check import check_stack
from demo.integration import engine
from tests.servers import get_json, http_get, promql, wait_for

REPO = Path(__file__).resolve().parent.parent
OFFSET = 10000  # demo ports 11000-19999 move to 21000-29999, below the ephemeral ports of free_port()
PACE = 0.25  # the morning four times as fast; the rules' `for:` durations stay as shipped
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
    **{
        ("middleware.json", title): "the demo runs no Tomcat or RabbitMQ (tests/middleware/ runs real ones)"
        for title in (
            "Tomcat heap used of maximum",
            "Tomcat time in garbage collection",
            "Tomcat request threads busy of maximum",
            "Tomcat JDBC pool connections in use of maximum",
            "Tomcat requests and errors per second",
            "RabbitMQ messages ready by queue",
            "RabbitMQ consumers by queue",
        )
    },
    ("middleware.json", "Interface channels not started"): "only faults",
    ("middleware.json", "Services running on middleware"): "no demo CI depends on its engine",
    ("estate.json", "Failing reach probes and why"): "only faults",
    ("estate.json", "UPS states that need someone"): "only faults",
    ("estate.json", "Array health"): "only faults, and the demo simulates no NetApp array",
    ("estate.json", "Volume fill"): "the demo simulates no NetApp array",
}
# What the demo shows besides the morning: standing warranty alerts (P4, never paged). The console's seeded
# incident of yesterday is older than the demo.
STANDING = {"CIWarrantyExpiringSoon", "CIWarrantyExpired"}
BOOT_NOISE = {"DeviceRestarted", "MonitoringTargetDown"}


@dataclass
class Demo:
    """Where the running demo answers."""

    run: Path
    prometheus: str
    router: str
    api: dict[str, str]
    started: dt.datetime

    def incidents(self) -> list[dict[str, Any]]:
        """Return the incidents the router opened since the demo started (through its JSON API)."""
        got = requests.get(f"{self.router}/api/v1/incidents", headers=self.api, timeout=10)
        found = list(got.json()["incidents"]) if got.ok else []
        return [i for i in found if dt.datetime.fromisoformat(i["created_at"]) >= self.started]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ports.OFFSET_ENV, str(OFFSET))
        env.setenv(story.PACE_ENV, str(PACE))
        yield from _running_demo(tmp_path_factory.mktemp("demo") / "run")


def _running_demo(run: Path) -> Iterator[Demo]:
    for demo_port in (ports.PROMETHEUS, ports.ALERTMANAGER, ports.INVENTORY_EXPORTER, ports.ROUTER):
        if http_get(ports.url(demo_port), timeout=1)[0]:
            pytest.fail(f"{ports.addr(demo_port)} answers: is another demo test running?")
    log = run.parent / "demo.log"
    started = dt.datetime.now(dt.UTC)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hospmon.cli", "demo", "--run-dir", str(run)],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=dict(os.environ),
        )  # fmt: skip
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"the demo exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return "Press Ctrl-C to stop." in log.read_text()

        wait_for(ready, 420, "the demo to start")
        token = (run / "router" / "api-tokens").read_text().split()[1]
        api = {"Authorization": f"Bearer {token}"}
        yield Demo(run, ports.url(ports.PROMETHEUS), ports.url(ports.ROUTER), api, started)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the launcher stops every part it started
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_the_stack_comes_up_and_nothing_pages_for_its_start(demo: Demo) -> None:
    problems = check_stack()
    assert not problems, problems
    firing = get_json(f"{demo.prometheus}/api/v1/alerts")["data"]["alerts"]
    noise = [f"{a['labels']['alertname']} on {a['labels'].get('ci')}" for a in firing
             if a["labels"]["alertname"] in BOOT_NOISE]  # fmt: skip
    assert not noise, f"start-up noise: {noise}"
    for incident in demo.incidents():
        if incident["alertname"] in STANDING:
            assert incident["priority"] == "P4", incident["title"]


def test_the_scripted_morning_becomes_one_incident_per_event(demo: Demo) -> None:
    expected = {story.SWITCH, "his-db", "ups-mr1-01", "agg-sw-inpatient"}

    def morning() -> dict[str, dict[str, Any]] | None:
        roots = [i for i in demo.incidents() if i["alertname"] not in STANDING and not i["parent_id"]]
        found = {i["ci"]: i for i in roots}
        return found if expected <= set(found) else None

    found = wait_for(morning, 480, f"the morning's incidents on {sorted(expected)}")
    switch, his, ups, flap = (found[c] for c in (story.SWITCH, "his-db", "ups-mr1-01", "agg-sw-inpatient"))
    assert (switch["alertname"], switch["team"]) == ("CIProbeFailed", "network"), switch
    assert his["team"] == "apps" and his["priority"] == "P1", his
    assert (ups["alertname"], ups["team"]) == ("UPSOnBattery", "infra"), ups
    assert (flap["alertname"], flap["team"]) == ("NetworkLinkDown", "network"), flap
    # Twenty flaps are one incident; the HIS checks failing with their database (the interface engine's, the
    # insurance gateway's) join its incident, at once or as children once it opens: none stands alone.
    assert [i["ci"] for i in demo.incidents()].count("agg-sw-inpatient") == 1
    unexplained = set(found) - expected - {"dr-ed-1", story.ENGINE}
    assert not unexplained, (
        f"incidents the morning does not explain: {[found[c]['title'] for c in unexplained]}"
    )
    # The ED radiograph is missing on the archive at once; the alert waits for its rule's 10 minutes.
    unrouted = promql(demo.prometheus, 'hospmon_dicom_studies_unrouted{ci="dr-ed-1"} > 0')
    assert unrouted, "the ED radiograph is not reported as unrouted"
    alerts = get_json(f"{demo.prometheus}/api/v1/alerts")["data"]["alerts"]
    assert any(a["labels"]["alertname"] == "DicomStudiesNotRouted" and a["labels"]["ci"] == "dr-ed-1"
               for a in alerts), "DicomStudiesNotRouted is not pending for dr-ed-1"  # fmt: skip
    # The stopped results interface: the exporter reports it at once; the alert waits 5 or 15 minutes by the
    # clock's clinic hours.
    name = next(n for cid, n, _ in engine.CHANNELS if cid == story.RESULTS_CHANNEL)  # the engine's label
    channel = f'ci="{story.ENGINE}",channel="{name}"'
    assert promql(demo.prometheus, f"hospmon_engine_channel_up{{{channel}}} == 0"), "the channel is not down"
    running = promql(demo.prometheus, f'hospmon_engine_channel_up{{ci="{story.ENGINE}"}} == 1')
    assert len(running) == 5, f"only the results channel stops: {running}"
    assert any(a["labels"]["alertname"] == "IntegrationChannelStopped" and a["labels"]["ci"] == story.ENGINE
               and a["labels"]["channel"] == name for a in alerts), (
        "IntegrationChannelStopped is not pending for the results interface")  # fmt: skip


def test_the_outpatient_switch_ranks_below_the_ed(demo: Demo) -> None:
    switch = wait_for(
        lambda: next(
            (
                i
                for i in demo.incidents()
                if i["ci"] == story.SWITCH and i["alertname"] != "CIWarrantyExpired"
            ),
            None,
        ),
        480,
        "the outpatient switch's incident",
    )
    assert switch["priority"] == "P2", switch["explanation"]


def _readme_links() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return sorted({link.rstrip(".,;:") for link in re.findall(r"http://127\.0\.0\.1:\d+[^\s|)`]*", text)})


def test_every_readme_link_answers_200(demo: Demo) -> None:
    links = _readme_links()
    assert len(links) >= 15, links
    failed = []
    for link in links:
        url = ports.shift_text(link)
        status = requests.get(url, timeout=30).status_code  # follows redirects, as a browser does
        if status != 200:
            failed.append(f"{link} ({url}): {status}")
    assert not failed, failed
    for target in re.findall(r"\]\(([^)#]+)\)", (REPO / "README.md").read_text(encoding="utf-8")):
        if not target.startswith("http"):
            assert (REPO / target).exists(), target


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


def test_every_dashboard_panel_shows_data_from_the_demo(demo: Demo) -> None:
    # An operator acknowledges and resolves one incident: the time-to-acknowledge and -resolve panels have
    # a sample.
    first = wait_for(lambda: [i for i in demo.incidents() if i["status"] == "triggered"], 120, "an incident")[
        0
    ]
    incident = f"{demo.router}/api/v1/incidents/{first['id']}"
    assert requests.post(f"{incident}/acknowledge", headers=demo.api, timeout=5).ok
    assert requests.post(f"{incident}/resolve", headers=demo.api, json={"note": "test"}, timeout=5).ok
    panels = _panels()
    assert {name for name, _, _ in panels} >= {"status_board.json", "incidents.json", "inventory.json"}
    for name, title, exprs in panels:
        for expr in exprs:
            status, body = http_get(f"{demo.prometheus}/api/v1/query?{urlencode({'query': expr})}")
            assert status == 200, f"{name}: {title}: {body[:300]!r}"
    empty: list[str] = []

    def all_show_data() -> bool:
        empty[:] = [
            f"{name}: {title}"
            for name, title, exprs in panels
            if (name, title) not in EMPTY_IN_THE_DEMO and not any(promql(demo.prometheus, e) for e in exprs)
        ]
        return not empty

    try:
        wait_for(all_show_data, 180, "every dashboard panel to show data")
    except pytest.fail.Exception:
        pytest.fail("panels without data in the demo:\n" + "\n".join(empty))
    assert sum(float(s["value"][1]) for s in promql(demo.prometheus, "hospmon_router_incidents_open")) >= 1
    assert get_json(f"{demo.prometheus}/api/v1/status/buildinfo")["data"]["version"]

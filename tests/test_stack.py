"""The foundation end to end: inventory → file_sd targets → real Prometheus scraping the inventory exporter →
warranty rule → real Alertmanager → webhook."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.inventory.main import InventoryExporter
from tests.servers import BackgroundHTTPServer, alertmanager, get_json, prometheus, promql, wait_for

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = BackgroundHTTPServer(Handler)
    yield f"http://127.0.0.1:{http.port}/hook", received
    http.stop()


def _inventory(folder: Path, exporter_address: str) -> Path:
    soon = dt.date.today() + dt.timedelta(days=12)
    folder.mkdir()
    (folder / "inventory.yml").write_text(f"""
hospital: {{id: h, name: {{zh: 测试医院, en: Test Hospital}}}}
departments:
  - {{id: icu, name: {{zh: 重症医学科, en: ICU}}, criticality: critical}}
  - {{id: it, name: {{en: IT}}, criticality: normal}}
teams:
  - {{id: infra, name: {{en: Infra}}, members: [{{id: a, name: {{en: A}}}}]}}
services:
  - {{id: datacenter, name: {{en: DC}}, tier: 1, team: infra, departments: [icu]}}
  - {{id: monitoring, name: {{en: Monitoring}}, tier: 3, team: infra, departments: [it]}}
cis:
  - {{id: ups-1, kind: ups, service: datacenter, vendor: Eaton, model: 93PM, location: Room 1,
     warranty_end: {soon.isoformat()}}}
  - {{id: mon-inventory, kind: application, service: monitoring, address: "{exporter_address}",
     monitor: [{{exporter: native, modules: [metrics]}}]}}
""")
    return folder


def test_inventory_reaches_prometheus_and_the_warranty_alert_reaches_alertmanager(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    hook_url, received = webhook
    # Start the exporter on a free port first, then describe it in the inventory it serves.
    placeholder = _inventory(tmp_path / "boot", "127.0.0.1:1")
    app = ExporterApp(InventoryExporter(), placeholder)
    with RunningServer(app, "127.0.0.1", 0) as exporter:
        inventory = _inventory(tmp_path / "inventory", exporter.url.removeprefix("http://"))
        app.config_path = inventory
        assert app.reload() is None
        targets = tmp_path / "prom" / "targets"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hospmon.cli",
                "inventory",
                "targets",
                str(inventory),
                "--out",
                str(targets),
            ],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        (tmp_path / "prom" / "rules").symlink_to(REPO / "rules")
        am_config = (
            f"route: {{receiver: hook, group_by: [alertname, ci], group_wait: 1s, group_interval: 1s}}\n"
            f"receivers:\n  - name: hook\n    webhook_configs: [{{url: '{hook_url}', send_resolved: true}}]\n"
        )
        with alertmanager(am_config, tmp_path / "am") as am_url:
            prom_config = f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
alerting: {{alertmanagers: [{{static_configs: [{{targets: ['{am_url.removeprefix("http://")}']}}]}}]}}
rule_files: [rules/*.yml]
scrape_configs:
  - job_name: native
    honor_labels: true
    file_sd_configs: [{{files: [targets/native-*.json], refresh_interval: 1s}}]
"""
            with prometheus(prom_config, tmp_path / "prom") as prom_url:
                info = wait_for(
                    lambda: promql(prom_url, 'hospmon_ci_info{ci="ups-1"}'), 30, "hospmon_ci_info"
                )
                labels = info[0]["metric"]
                assert {
                    k: labels[k]
                    for k in (
                        "ci",
                        "kind",
                        "service",
                        "department",
                        "owner",
                        "vendor",
                        "model",
                        "location",
                        "tier",
                        "job",
                    )
                } == {
                    "ci": "ups-1",
                    "kind": "ups",
                    "service": "datacenter",
                    "department": "icu",
                    "owner": "infra",
                    "vendor": "Eaton",
                    "model": "93PM",
                    "location": "Room 1",
                    "tier": "1",
                    "job": "native",
                }
                up = promql(prom_url, 'up{job="native"}')
                assert [(s["metric"]["ci"], s["value"][1]) for s in up] == [("mon-inventory", "1")]

                def warranty_alert() -> list[dict[str, Any]]:
                    alerts = get_json(f"{am_url}/api/v2/alerts")
                    return [a for a in alerts if a["labels"]["alertname"] == "CIWarrantyExpiringSoon"]

                alerts = wait_for(warranty_alert, 60, "the warranty alert in Alertmanager")
                assert alerts[0]["labels"]["ci"] == "ups-1"
                assert alerts[0]["labels"]["service"] == "datacenter"
                assert alerts[0]["labels"]["severity"] == "warning"
                assert alerts[0]["annotations"]["summary"] == "Warranty of ups-1 ends within 30 days"
                assert alerts[0]["annotations"]["description"].startswith(
                    ("Days left: 12.", "Days left: 13.")
                )
                wait_for(lambda: received, 30, "the webhook from Alertmanager")
                assert received[0]["version"] == "4"
                assert {a["labels"]["ci"] for a in received[0]["alerts"]} == {"ups-1"}

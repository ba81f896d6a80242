"""Every panel of the estate dashboard returns data from a real Prometheus scraping the network exporter
(probing the estate's recordings), the reach exporter (a kiosk that answers ping but not its port, a clamd)
and an inventory's ci_info."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.network.exporter import NetworkExporter
from exporters.reach.main import ReachExporter
from tests.conftest import REPO
from tests.network.conftest import write_config
from tests.peers import refused_port
from tests.reach.clamav import clamd
from tests.servers import BackgroundHTTPServer, prometheus, promql, wait_for

DEVICES = {
    "apc-ups": "apc_ups",
    "eaton-ups": "eaton_ups",
    "ward-printer": "printer",
    "fortigate": "fortigate",
    "hillstone": "hillstone",
    "sangfor": "sangfor",
    "brocade-fc": "brocade_fc",
    "netapp": "netapp",
}
CI_INFO = 'hospmon_ci_info{ci="kiosk-opd-1",service="his",department="outpatient",tier="2",kind="kiosk"} 1\n'


class _Inventory(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = CI_INFO.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def prom(recorded: str, tmp_path: Path) -> Iterator[str]:
    network_config = write_config(tmp_path)
    reach_config = tmp_path / "reach.yml"
    reach_config.write_text(
        "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.0.0/8]\n"
        "modules:\n  ping: {kind: icmp}\n  port: {kind: tcp}\n  clamav: {kind: clamd}\n"
    )
    inventory = BackgroundHTTPServer(_Inventory)
    with (
        RunningServer(ExporterApp(NetworkExporter(), network_config), "127.0.0.1", 0) as network,
        RunningServer(ExporterApp(ReachExporter(), reach_config), "127.0.0.1", 0) as reach,
        clamd(tmp_path / "clamd", version=27480, age_days=4, zone="UTC") as engine,
    ):
        jobs = [
            {
                "job_name": f"network-{recording}",
                "metrics_path": "/probe",
                "params": {"module": [module], "auth": [recording], "target": [recorded]},
                "static_configs": [
                    {"targets": [network.url.removeprefix("http://")], "labels": {"ci": recording}}
                ],
            }
            for recording, module in DEVICES.items()
        ]
        probes = [
            ("ping", "127.0.0.1", "kiosk-opd-1"),
            ("port", f"127.0.0.1:{refused_port()}", "kiosk-opd-1"),
            ("clamav", engine.target, "av-mail-1"),
        ]
        for module, target, ci in probes:
            jobs.append({
                "job_name": f"reach-{module}",
                "metrics_path": "/probe",
                "params": {"module": [module], "target": [target]},
                "static_configs": [
                    {"targets": [reach.url.removeprefix("http://")], "labels": {"ci": ci}}
                ],
                "relabel_configs": [{"target_label": "job", "replacement": "reach"}],
            })  # fmt: skip
        jobs.append({"job_name": "inventory", "honor_labels": True,
                     "static_configs": [{"targets": [f"127.0.0.1:{inventory.port}"]}]})  # fmt: skip
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs}
        try:
            with prometheus(json.dumps(config), tmp_path / "prom") as url:
                yield url
        finally:
            inventory.stop()


def test_every_estate_panel_returns_data(prom: str) -> None:
    board = json.loads((REPO / "dashboards" / "estate.json").read_text())
    queries = [
        (panel["title"], re.sub(r"\$__rate_interval", "30s", target["expr"]))
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]
    assert len(queries) >= 12
    for title, expr in queries:
        wait_for(lambda e=expr: promql(prom, e), 60, f"data for panel {title!r}: {expr}")
    kiosk = promql(prom, next(e for t, e in queries if t == "Self-service kiosks"))
    assert [float(s["value"][1]) for s in kiosk] == [0.0]  # it pings, but its service port is closed

"""Every panel of the middleware dashboard shows data from a real Prometheus scraping a real Tomcat (through
the exporter), a real RabbitMQ (natively), the simulated interface engine and the inventory exporter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from demo.integration import engine as simulated
from demo.servers.rabbitmq import RabbitMQ
from demo.servers.tomcat import Tomcat
from exporters.core.server import ExporterApp, RunningServer
from exporters.inventory.main import InventoryExporter
from exporters.middleware.main import MiddlewareExporter
from tests.middleware.conftest import write_inventory
from tests.servers import prometheus, promql, wait_for

REPO = Path(__file__).resolve().parents[2]


def _panels() -> list[tuple[str, str]]:
    board = json.loads((REPO / "dashboards" / "middleware.json").read_text(encoding="utf-8"))
    return [
        (panel["title"], re.sub(r"\$__rate_interval", "1m", t["expr"]).replace("$service", ".*"))
        for panel in board["panels"]
        for t in panel.get("targets", [])
    ]


def _probe_job(exporter: str, target: str, module: str, ci: str, service: str) -> dict[str, Any]:
    return {
        "job_name": f"middleware-{ci}", "metrics_path": "/probe",
        "params": {"target": [target], "module": [module]},
        "static_configs": [{"targets": [exporter], "labels": {"ci": ci, "service": service}}],
    }  # fmt: skip


def test_every_panel_shows_data(tmp_path: Path, tomcat: Tomcat, rabbitmq: RabbitMQ) -> None:
    sim = simulated.Engine()
    sim.advance(600)
    sim.control("his-orders-to-ris", "stop")  # something for the "not started" panel to show
    engine = simulated.serve(sim, "engine-secret", "127.0.0.1", 0)
    engine_url = f"http://127.0.0.1:{engine.server_address[1]}"
    inventory = write_inventory(tmp_path / "inventory", tomcat=tomcat.url, rabbitmq=rabbitmq.address,
                                engine=engine_url)  # fmt: skip
    (tmp_path / "engine-password").write_text("engine-secret\n")
    config = {
        "inventory": str(inventory),
        "auths": {
            "jmx": {"basic": {"username": tomcat.user, "password_file": str(tomcat.password_file)}},
            "engine": {"basic": {"username": "hospmon", "password_file": str(tmp_path / "engine-password")}},
        },
        "modules": {"tomcat": {"kind": "tomcat", "http": {"auth": "jmx"}},
                    "mirth": {"kind": "mirth", "http": {"auth": "engine"}, "mirth": {"last_message": True}}},
    }  # fmt: skip
    (tmp_path / "middleware.yml").write_text(yaml.safe_dump(config))
    exporter = RunningServer(
        ExporterApp(MiddlewareExporter(), tmp_path / "middleware.yml"), "127.0.0.1", 0
    ).start()
    inventory_exporter = RunningServer(ExporterApp(InventoryExporter(), inventory), "127.0.0.1", 0).start()
    address = exporter.url.removeprefix("http://")
    scrape = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            _probe_job(address, tomcat.url, "tomcat", "his-tomcat-1", "his"),
            _probe_job(address, engine_url, "mirth", "esb-engine-1", "integration"),
            {"job_name": "native", "static_configs": [
                {"targets": [rabbitmq.address], "labels": {"ci": "esb-mq-1", "service": "integration"}}]},
            {"job_name": "inventory", "honor_labels": True,
             "static_configs": [{"targets": [inventory_exporter.url.removeprefix("http://")]}]},
        ],
    }  # fmt: skip
    try:
        with prometheus(yaml.safe_dump(scrape), tmp_path / "prometheus") as url:
            panels = _panels()
            assert len(panels) >= 11

            def empty() -> list[str]:
                return [title for title, expr in panels if not promql(url, expr)]

            wait_for(lambda: not empty(), 90, "every panel to show data")
            services = promql(url, dict(panels)["Services running on middleware"])
            on = {(s["metric"]["ci"], s["metric"]["depends_on"]) for s in services}
            assert ("his-registration", "his-tomcat-1") in on and ("lis-results-interface", "esb-mq-1") in on
    finally:
        exporter.stop()
        inventory_exporter.stop()
        engine.shutdown()
        engine.server_close()

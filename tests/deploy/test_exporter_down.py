"""A real exporter process dies under the shipped Prometheus config and rules: one ExporterDown on its own
CI, no MonitoringTargetDown for the CIs it probes (rules/inventory.yml, docs/router.md)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from hospmon.inventory import load_inventory
from hospmon.inventory.targets import write_targets
from tests.deploy.stack import REPO, python_main
from tests.servers import free_port, get_json, process, prometheus, promql, wait_for

EXPORTER_CI = "mon-emr-exporter"
DEMO_EMR_PORT = "19106"
PROBED = ("test-emr-web-1", "test-emr-web-2", "test-emr-web-3")


def _inventory(run: Path, port: int) -> Path:
    """The demo inventory with its EMR exporter CI on `port`, plus three CIs that exporter probes."""
    inventory = run / "inventory"
    shutil.copytree(REPO / "demo" / "inventory", inventory)
    monitoring = inventory / "70-cis-monitoring.yml"
    text = monitoring.read_text(encoding="utf-8")
    monitoring.write_text(text.replace(f"127.0.0.1:{DEMO_EMR_PORT}", f"127.0.0.1:{port}"), encoding="utf-8")
    probe = [{"exporter": "emr", "modules": ["health"], "target": f"http://127.0.0.1:{port}"}]
    cis = [
        {"id": ci, "name": {"en": ci}, "kind": "application", "service": "emr", "department": "it",
         "monitor": probe}
        for ci in PROBED
    ]  # fmt: skip
    (inventory / "90-test.yml").write_text(yaml.safe_dump({"cis": cis}), encoding="utf-8")
    return inventory


def _targets(inventory: Path, folder: Path) -> None:
    """Write the file_sd files, keeping only the exporter's self-scrape and its three probes."""
    write_targets(load_inventory(inventory), folder)
    for path in folder.glob("*.json"):
        keep = {EXPORTER_CI, *PROBED}
        groups = [g for g in json.loads(path.read_text()) if g["labels"]["ci"] in keep]
        path.write_text(json.dumps(groups))


def _config(port: int) -> str:
    """The shipped prometheus.yml: its native and emr jobs, every second, the EMR exporter on `port`."""
    config: dict[str, Any] = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    del config["alerting"]
    jobs = [job for job in config["scrape_configs"] if job["job_name"] in ("native", "emr")]
    for job in jobs:
        job["file_sd_configs"][0]["refresh_interval"] = "1s"
        for relabel in job.get("relabel_configs", []):
            if relabel.get("target_label") == "__address__":
                relabel["replacement"] = f"127.0.0.1:{port}"
    config["scrape_configs"] = jobs
    return yaml.safe_dump(config)


def _alerts(prom: str, name: str) -> list[dict[str, Any]]:
    """Return the labels of the pending or firing alerts of one name."""
    return [r["metric"] for r in promql(prom, f'ALERTS{{alertname="{name}"}}')]


def _evaluated_after(prom: str, moment: float) -> bool:
    """Tell whether the monitoring rules were evaluated after `moment` (Prometheus's clock, seconds)."""
    groups = get_json(f"{prom}/api/v1/rules?type=alert")["data"]["groups"]
    stamp = next(g for g in groups if g["name"] == "hospmon-monitoring")["lastEvaluation"]
    # RFC 3339 with nanoseconds; Python reads microseconds.
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp).replace("Z", "+00:00")
    return dt.datetime.fromisoformat(stamp).timestamp() > moment


def test_a_killed_exporter_raises_one_exporter_down_and_no_target_down(tmp_path: Path) -> None:
    port = free_port()
    inventory = _inventory(tmp_path, port)
    config = tmp_path / "emr.yml"
    config.write_text("inventory: inventory\nmodules:\n  health: {kind: http, http: {path: /-/healthy}}\n")
    prom_dir = tmp_path / "prometheus"
    _targets(inventory, prom_dir / "targets")
    (prom_dir / "rules").symlink_to(REPO / "rules", target_is_directory=True)
    listen = f"--web.listen-address=127.0.0.1:{port}"
    argv = python_main("exporters.emr.main", f"--config.file={config}", listen)
    with (
        prometheus(_config(port), prom_dir) as prom,
        process(argv, f"http://127.0.0.1:{port}/-/healthy", tmp_path / "emr.log") as exporter,
    ):
        wait_for(lambda: len(promql(prom, "up == 1")) == 4, 60, "the exporter and its three probes to be up")
        exporter.kill()
        exporter.wait(10)
        wait_for(lambda: len(promql(prom, "up == 0")) == 4, 30, "the exporter and its three probes to fail")
        # Every rule evaluation from now on sees the four failed scrapes.
        moment = float(promql(prom, "vector(time())")[0]["value"][1])
        wait_for(lambda: _evaluated_after(prom, moment), 30, "a rule evaluation after the failed scrapes")
        assert [a["ci"] for a in _alerts(prom, "ExporterDown")] == [EXPORTER_CI]
        assert [a["ci"] for a in _alerts(prom, "MonitoringTargetDown")] == []

"""The estate's rules on the exporters' own output: each recording is probed (and each antivirus engine,
a real clamd), its series become promtool input (with the inventory's labels), and exactly the alerts a
night-shift engineer must see fire.

promtool's clock starts at 0: a `*_timestamp_seconds` value is moved by as much as the clock, so that at the
evaluation time each signature package is as old as it was when the exporter read it."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from exporters.core.server import ExporterApp, RunningServer
from exporters.network.exporter import NetworkExporter, Runtime
from exporters.reach.main import ReachExporter
from tests.conftest import LOOPBACK_ADHOC_YAML, REPO
from tests.network.helpers import probe
from tests.peers import refused_port
from tests.reach.clamav import clamd
from tests.servers import http_get, require

# recording, its modules, and the inventory labels file_sd would add
DEVICES = [
    ("apc-ups", ["apc_ups"], {"ci": "ups-mr-a3", "service": "power", "department": "it", "tier": "1"}),
    ("eaton-ups", ["eaton_ups"], {"ci": "ups-dc-1", "service": "power", "department": "it", "tier": "1"}),
    (
        "ward-printer",
        ["printer"],
        {"ci": "prn-ward3-1", "service": "his", "department": "ward-3", "tier": "2"},
    ),
    (
        "fortigate",
        ["fortigate"],
        {"ci": "fw-internet-1", "service": "network", "department": "it", "tier": "1"},
    ),
    (
        "hillstone",
        ["hillstone"],
        {"ci": "fw-intranet-1", "service": "network", "department": "it", "tier": "1"},
    ),
    (
        "sangfor",
        ["sangfor"],
        {"ci": "fw-insurance-1", "service": "insurance", "department": "it", "tier": "1"},
    ),
    ("brocade-fc", ["brocade_fc"], {"ci": "fc-sw-a", "service": "pacs", "department": "it", "tier": "1"}),
    ("netapp", ["netapp"], {"ci": "nas-pacs-1", "service": "pacs", "department": "it", "tier": "1"}),
]
EXPECTED = {
    ("UPSBatteryNeedsReplacing", "ups-mr-a3"): 1,  # APC: upsAdvBatteryReplaceIndicator
    ("UPSSelfTestFailed", "ups-mr-a3"): 1,
    ("UPSOnBattery", "ups-dc-1"): 1,  # Eaton: xupsOutputSource battery
    ("UPSLowRuntime", "ups-dc-1"): 1,  # 390 s left
    ("PrinterOutOfPaper", "prn-ward3-1"): 1,
    ("PrinterSupplyLow", "prn-ward3-1"): 1,  # the black toner at 5 %, not the fuser's "some remains"
    ("FirewallCPUHigh", "fw-internet-1"): 1,
    ("SignaturesOutdated", "fw-internet-1"): 1,  # its IPS package is 9 days old; antivirus is current
    ("FirewallSessionTableFull", "fw-insurance-1"): 1,
    ("FCPortDown", "fc-sw-a"): 1,  # the pulled cable; the port taken offline on purpose stays quiet
    ("FCPortFaulty", "fc-sw-a"): 1,
    ("StorageArrayDegraded", "nas-pacs-1"): 1,
    ("StorageDiskFailed", "nas-pacs-1"): 1,
    ("StorageVolumeAlmostFull", "nas-pacs-1"): 1,  # /vol/pacs_images at 93 %
}


EVAL_MINUTES = 75  # past every `for`, UPSBatteryNeedsReplacing's hour included


def _input(samples: Iterable[Sample], labels: dict[str, str], captured_at: float) -> list[dict[str, str]]:
    """Return promtool input series holding each sample's value for 80 minutes, timestamps rebased."""
    out = []
    for s in samples:
        text = ",".join(
            f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted({**s.labels, **labels}.items())
        )
        number = s.value
        if s.name.endswith("_timestamp_seconds"):
            number = s.value - captured_at + EVAL_MINUTES * 60
        out.append({"series": f"{s.name}{{{text}}}", "values": f"{number!r}x80"})
    return out


def _series(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> list[dict[str, str]]:
    out = []
    for recording, modules, labels in DEVICES:
        for module in modules:
            families = probe(exporter, runtime, recorded, module, auth=recording)
            scrape = {**labels, "job": "network", "instance": recording, "module": module}
            out += _input((s for f in families for s in f.samples), scrape, time.time())
    return out


def _alerts_firing(
    rule_files: list[str], series: list[dict[str, str]], expected: dict[tuple[str, str], int], folder: Path
) -> None:
    """Run promtool over `series` and check that exactly `expected` (alert name, ci) fire at EVAL_MINUTES."""
    test = {
        "rule_files": [str(REPO / "rules" / f) for f in rule_files],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": 'count by (alertname, ci) (ALERTS{alertstate="firing"})',
                        "eval_time": f"{EVAL_MINUTES}m",
                        "exp_samples": [
                            {"labels": f'{{alertname="{name}",ci="{ci}"}}', "value": count}
                            for (name, ci), count in sorted(expected.items())
                        ],
                    }
                ],
            }
        ],
    }
    path = folder / "captured_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True))
    result = subprocess.run([require("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_estate_rules_fire_on_the_exporters_output(
    exporter: NetworkExporter, runtime: Runtime, recorded: str, tmp_path: Path
) -> None:
    series = _series(exporter, runtime, recorded)
    _alerts_firing(["network.yml", "estate.yml"], series, EXPECTED, tmp_path)


ENGINES = {"av-mail-1": 0.2, "av-files-1": 10.0}  # clamd's signature age in days: updated, stuck


def test_antivirus_engines_stuck_or_stopped_warn_and_only_they(tmp_path: Path) -> None:
    """Night shift: the mail gateway's ClamAV updated this morning, the file server's stopped updating ten
    days ago, the second mail gateway's clamd is not running. Two warnings, and no CIProbeFailed page."""
    config = tmp_path / "reach.yml"
    config.write_text(
        LOOPBACK_ADHOC_YAML + "modules:\n  clamav: {kind: clamd, clamd: {timezone: Asia/Shanghai}}\n"
    )
    bodies: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        reach = stack.enter_context(RunningServer(ExporterApp(ReachExporter(), config), "127.0.0.1", 0))
        targets = {"av-mail-2": f"127.0.0.1:{refused_port()}"}
        for ci, days in ENGINES.items():
            engine = stack.enter_context(clamd(tmp_path / ci, version=27480, age_days=days))
            targets[ci] = engine.target
        for ci, target in targets.items():
            status, body = http_get(f"{reach.url}/probe?target={target}&module=clamav", timeout=15)
            assert status == 200
            bodies[ci] = body.decode()
        captured_at = time.time()
    series = []
    for ci, body in bodies.items():
        samples = [s for f in text_string_to_metric_families(body) for s in f.samples]
        scrape = {"ci": ci, "service": "mail", "department": "it", "tier": "2", "job": "reach",
                  "instance": targets[ci]}  # fmt: skip
        series += _input(samples, scrape, captured_at)
    expected = {("SignaturesOutdated", "av-files-1"): 1, ("AntivirusEngineDown", "av-mail-2"): 1}
    _alerts_firing(["estate.yml", "inventory.yml"], series, expected, tmp_path)

"""The estate's rules on the exporter's own output: each recording is probed, its series become promtool
input (with the inventory's labels), and exactly the alerts a night-shift engineer must see fire."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from exporters.network.exporter import NetworkExporter, Runtime
from tests.conftest import REPO
from tests.network.helpers import probe
from tests.servers import require

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
    ("FirewallSessionTableFull", "fw-insurance-1"): 1,
    ("FCPortDown", "fc-sw-a"): 1,  # the pulled cable; the port taken offline on purpose stays quiet
    ("FCPortFaulty", "fc-sw-a"): 1,
    ("StorageArrayDegraded", "nas-pacs-1"): 1,
    ("StorageDiskFailed", "nas-pacs-1"): 1,
    ("StorageVolumeAlmostFull", "nas-pacs-1"): 1,  # /vol/pacs_images at 93 %
}


def _series(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> list[dict[str, str]]:
    out = []
    for recording, modules, labels in DEVICES:
        for module in modules:
            for family in probe(exporter, runtime, recorded, module, auth=recording):
                for s in family.samples:
                    all_labels = {
                        **s.labels,
                        **labels,
                        "job": "network",
                        "instance": recording,
                        "module": module,
                    }
                    text = ",".join(
                        f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(all_labels.items())
                    )
                    out.append({"series": f"{s.name}{{{text}}}", "values": f"{s.value!r}x80"})
    return out


def test_estate_rules_fire_on_the_exporters_output(
    exporter: NetworkExporter, runtime: Runtime, recorded: str, tmp_path: Path
) -> None:
    expected = [
        {"labels": f'{{alertname="{name}",ci="{ci}"}}', "value": count}
        for (name, ci), count in sorted(EXPECTED.items())
    ]
    test = {
        "rule_files": [str(REPO / "rules" / "network.yml"), str(REPO / "rules" / "estate.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _series(exporter, runtime, recorded),
                "promql_expr_test": [
                    {
                        "expr": 'count by (alertname, ci) (ALERTS{alertstate="firing"})',
                        "eval_time": "75m",  # past every `for`, UPSBatteryNeedsReplacing's hour included
                        "exp_samples": expected,
                    }
                ],
            }
        ],
    }
    path = tmp_path / "estate_captured_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True))
    result = subprocess.run([require("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr

"""Topology drift in the closet: the report names the planted links, the inventory exporter exports them, and
the rule fires on what the exporter really served."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hospmon.inventory import load_inventory
from hospmon.inventory.observed import load_observation
from hospmon.inventory.topology import compare
from tests.network.lab import Closet, write_inventory
from tests.network.test_discovery import run_discover
from tests.promtool import captured_series, run_rule_test
from tests.servers import free_port, http_get, process

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def observed(closet_lab: Closet, lab_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run discovery in the closet once; return its observation file."""
    out = tmp_path_factory.mktemp("discovered")
    result = run_discover(closet_lab, lab_config, out, "public_v2")
    assert result.returncode == 0, result.stderr
    return out / "observed.yml"


def test_report_names_the_planted_links(observed: Path, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", "public_v2")
    cmd = [
        sys.executable,
        "-m",
        "hospmon.cli",
        "inventory",
        "topology",
        str(inv),
        "--observed",
        str(observed),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 3, result.stderr  # drift found
    report = result.stdout
    assert "Undeclared links (on the wire, not in depends_on): 1\n  agg-sw-1 -- fw-1:" in report
    assert "Declared links not seen on the wire: 1\n  core-sw-1 -- fw-1:" in report
    assert "Devices on the wire not in the inventory: 1\n  ward-ap-3f (seen by acc-sw-1)" in report
    assert "Inventory devices not answering: 1\n  old-sw-9: timeout" in report
    drift = compare(load_inventory(inv), load_observation(observed))
    # the declared links that are on the wire are not findings; the application on the server is not checked
    assert {(lk.a, lk.b) for lk in drift.seen} - {("agg-sw-1", "fw-1")} == {
        ("agg-sw-1", "core-sw-1"),
        ("acc-sw-1", "agg-sw-1"),
        ("acc-sw-1", "srv-his-1"),
    }
    assert drift.checked == 4


def test_a_true_inventory_has_no_drift(observed: Path, tmp_path: Path) -> None:
    """Declare the firewall behind the aggregation switch, as cabled: the graph is right, exit status 0."""
    inv = write_inventory(tmp_path / "inv", "public_v2", depends_on={"fw-1": ["agg-sw-1"]})
    drift = compare(load_inventory(inv), load_observation(observed))
    assert (drift.undeclared, drift.absent) == ([], [])


def test_exporter_serves_drift_and_the_rule_fires(observed: Path, tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", "public_v2")
    port = free_port()
    argv = [str(Path(sys.executable).parent / "hospmon-inventory-exporter"), "--config.file", str(inv)]
    argv += ["--web.listen-address", f"127.0.0.1:{port}", "--topology.observed", str(observed)]
    url = f"http://127.0.0.1:{port}"
    with process(argv, f"{url}/-/healthy", tmp_path / "exporter.log", cwd=REPO):
        status, body = http_get(f"{url}/metrics")
    assert status == 200
    text = body.decode()
    assert 'hospmon_topology_drift{drift="undeclared"} 1.0' in text
    assert 'hospmon_topology_drift{drift="absent"} 1.0' in text
    names = ["hospmon_topology_link_drift", "hospmon_topology_ci_silent"]
    series = captured_series(text, names, {"job": "inventory", "instance": f"127.0.0.1:{port}"}, "{v}x10")
    scrape = {"job": "inventory", "instance": f"127.0.0.1:{port}", "service": "network", "department": "it"}
    scrape["tier"] = "1"
    summary = "Inventory dependencies of {ci} differ from the wire ({drift} link with {peer})"
    summary_zh = "{ci} 的配置项依赖与实际连线不符\uff08与 {peer} 的链路 {drift}\uff09"
    description = (
        "Discovery and the inventory disagree about {ci} and {peer}. Undeclared: LLDP/CDP shows them "
        "connected but neither depends_on the other. Absent: the inventory declares the dependency but "
        "neither sees the other on the wire. The router groups and prioritises alerts along depends_on, so "
        "fix the inventory (or the cabling) and run `hospmon inventory topology`."
    )
    expected = [
        {
            "exp_labels": {**scrape, "severity": "warning", "ci": ci, "peer": peer, "drift": drift},
            "exp_annotations": {
                "summary": summary.format(ci=ci, peer=peer, drift=drift),
                "summary_zh": summary_zh.format(ci=ci, peer=peer, drift=drift),
                "description": description.format(ci=ci, peer=peer),
            },
        }
        for ci, peer, drift in [
            ("agg-sw-1", "fw-1", "undeclared"),
            ("fw-1", "agg-sw-1", "undeclared"),
            ("core-sw-1", "fw-1", "absent"),
            ("fw-1", "core-sw-1", "absent"),
        ]
    ]
    run_rule_test(
        tmp_path,
        "topology.yml",
        series,
        [
            {"eval_time": "2m", "alertname": "DependencyGraphWrong", "exp_alerts": expected},
            {
                "eval_time": "2m",
                "alertname": "InventoryCINotAnsweringDiscovery",
                "exp_alerts": [
                    {
                        "exp_labels": {**scrape, "severity": "info", "ci": "old-sw-9"},
                        "exp_annotations": {
                            "summary": "old-sw-9 did not answer discovery",
                            "summary_zh": "old-sw-9 未响应拓扑发现",
                            "description": "old-sw-9 (service network) is monitored by SNMP and its address "
                            "was scanned, but it gave no answer: it may be gone, renumbered, or its SNMP "
                            "access changed. Check the device and its entry in the inventory.",
                        },
                    }
                ],
            },
        ],
    )


def test_an_unreadable_observation_is_reported_not_fatal(tmp_path: Path) -> None:
    from exporters.inventory.drift import ObservationFile, drift_metrics

    inv = load_inventory(write_inventory(tmp_path / "inv", "public_v2"))
    missing = list(drift_metrics(inv, ObservationFile(tmp_path / "none.yml")))
    assert [(s.name, s.value) for f in missing for s in f.samples] == [
        ("hospmon_topology_observation_valid", 0)
    ]
    broken = tmp_path / "broken.yml"
    broken.write_text("devices: [{sys_name: no-address}]\n", encoding="utf-8")
    assert [s.value for f in drift_metrics(inv, ObservationFile(broken)) for s in f.samples] == [0]

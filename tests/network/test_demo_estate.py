"""The demo's estate devices (demo/parts/estate.py): each simulated agent, on a free port, answers
its inventory modules through the shipped deploy/exporters/network.yml, and the kiosk's status page passes
the shipped reach module."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from demo.parts import estate
from demo.servers.snmpd import snmpd
from exporters.core.probe import Deadline, ProbeRequest
from exporters.network.exporter import NetworkExporter
from exporters.reach.main import ReachExporter
from hospmon.inventory import load_inventory
from tests.conftest import REPO
from tests.network.helpers import value
from tests.servers import free_port, http_get, wait_for

INVENTORY = REPO / "demo" / "inventory"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lay out deploy/exporters beside the demo inventory, with the lab community, as the demo runs them."""
    root = tmp_path_factory.mktemp("deployed")
    shutil.copytree(REPO / "deploy" / "exporters", root / "exporters")
    shutil.copytree(INVENTORY, root / "inventory")
    (root / "exporters" / "secrets" / "snmp-community").write_text("public\n")
    return root / "exporters"


def _allowed(config: Path, target: str) -> Path:
    """Return a copy of `config` that also allows `target` (the agent runs on a free port, not the demo's)."""
    data = yaml.safe_load(config.read_text())
    data.update(allow_adhoc_targets=True, adhoc_cidrs=["127.0.0.0/8"])
    for auth in data.get("auths", {}).values():  # secrets are read from the exporter's folder
        if "community_file" in auth:
            auth["community_file"] = str(config.parent / auth["community_file"])
    copy = config.with_name(f"test-{config.name}")
    copy.write_text(yaml.safe_dump(data))
    return copy


@pytest.mark.parametrize("device", estate.DEVICES, ids=lambda d: d.ci)
def test_demo_device_answers_its_inventory_modules(device: estate.Device, deployed: Path) -> None:
    exporter = NetworkExporter()
    (monitor,) = load_inventory(INVENTORY).cis[device.ci].monitor
    with snmpd(extra=list(device.extra)) as agent:
        runtime = exporter.load_config(_allowed(deployed / "network.yml", agent.target))
        for module in monitor.modules:
            request = ProbeRequest(agent.target, (module,), {"auth": monitor.auth or "public_v2"})
            exporter.check_request(runtime, request)
            families = list(exporter.probe_module(runtime, request, module, Deadline.after(10)))
            assert any(f.samples for f in families), (device.ci, module)
            if device.ci == "acc-sw-old-b2" and module == "if_mib":  # SNMPv1: 32-bit counters
                assert value(families, "hospmon_snmp_if_in_bytes_total", ifDescr="lo") >= 0
            if module == "apc_ups":
                assert value(families, "hospmon_snmp_ups_battery_runtime_seconds") == 2220
            if module == "printer":
                assert value(families, "hospmon_snmp_printer_error_state", flag="lowToner") == 1
                assert value(families, "hospmon_snmp_printer_supply_level", printer="HP LaserJet M507") == 6
            if module == "fortigate":
                assert value(families, "hospmon_snmp_firewall_sessions") == 61234
            if module == "brocade_fc":
                assert value(families, "hospmon_snmp_fc_port_oper_status", port="3", state="offline") == 1


def test_demo_kiosk_is_in_service(deployed: Path) -> None:
    port = free_port()
    status = subprocess.Popen(
        [sys.executable, "-m", "demo.kiosk.status", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/status")[0] == 200, 20, "kiosk status page")
        reach = ReachExporter()
        loaded = reach.load_config(_allowed(deployed / "reach.yml", "127.0.0.1"))
        for module, target in (
            ("kiosk_in_service", f"http://127.0.0.1:{port}"),
            ("port", f"127.0.0.1:{port}"),
        ):
            request = ProbeRequest(target, (module,))
            reach.check_request(loaded, request)
            assert list(reach.probe_module(loaded, request, module, Deadline.after(5)))
    finally:
        status.terminate()
        status.wait(10)

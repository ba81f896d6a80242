"""The demo's estate devices (hospmon/demoparts/estate.py): each simulated agent, on a free port, answers
its inventory modules through the shipped deploy/exporters/network.yml, and the kiosk's status page passes
the shipped reach module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exporters.core.probe import Deadline, ProbeRequest
from exporters.network.exporter import NetworkExporter
from exporters.reach.main import ReachExporter
from hospmon.demoparts import estate
from hospmon.inventory import load_inventory
from tests.conftest import REPO
from tests.network.agent import snmpd
from tests.network.helpers import value
from tests.servers import free_port, http_get, wait_for

INVENTORY = REPO / "demo" / "inventory"


@pytest.mark.parametrize("device", estate.DEVICES, ids=lambda d: d.ci)
def test_demo_device_answers_its_inventory_modules(device: estate.Device) -> None:
    exporter = NetworkExporter()
    runtime = exporter.load_config(REPO / "deploy" / "exporters" / "network.yml")
    (monitor,) = load_inventory(INVENTORY).cis[device.ci].monitor
    with snmpd(extra=list(device.extra)) as agent:
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


def test_demo_kiosk_is_in_service() -> None:
    port = free_port()
    status = subprocess.Popen(
        [sys.executable, str(REPO / "demo" / "kiosk" / "status.py"), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/status")[0] == 200, 20, "kiosk status page")
        reach = ReachExporter()
        loaded = reach.load_config(REPO / "deploy" / "exporters" / "reach.yml")
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

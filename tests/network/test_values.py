"""Probe real snmpd and check the values, against snmpwalk, /proc and the simulated devices' known data."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from demo.servers.snmpd import Agent
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.conftest import VETH_PAIRS
from tests.network.helpers import cli_values, probe, value

P = "hospmon_snmp_"


def test_system_identity_and_uptime(exporter: NetworkExporter, runtime: Runtime, agent: Agent) -> None:
    fams = probe(exporter, runtime, agent.target, "system")
    info = next(s for f in fams for s in f.samples if s.name == P + "system_info")
    assert info.labels["sysName"] == "hm-lab-agent"
    assert info.labels["sysLocation"] == "机房 A-3 (machine room A-3)"
    assert info.labels["sysObjectID"] == "1.3.6.1.4.1.8072.3.2.10"
    assert info.labels["sysDescr"].startswith("Linux")
    ticks = int(agent.cli("snmpget", "-Oqv", "1.3.6.1.2.1.1.3.0").strip())
    assert abs(value(fams, P + "system_uptime_seconds") - ticks / 100) < 5


def test_host_resources_memory_matches_proc(
    exporter: NetworkExporter, runtime: Runtime, agent: Agent
) -> None:
    fams = probe(exporter, runtime, agent.target, "host_resources")
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo).group(1))  # type: ignore[union-attr]
    assert value(fams, P + "host_memory_size_bytes") == total_kib * 1024
    assert value(fams, P + "host_storage_size_bytes", hrStorageDescr="Physical memory") == total_kib * 1024
    root = next(
        s
        for f in fams
        for s in f.samples
        if s.name == P + "host_storage_size_bytes" and s.labels["hrStorageDescr"] == "/"
    )
    assert root.labels["hrStorageType"] == "fixedDisk"
    units = int(
        agent.cli("snmpget", "-Oqv", f"1.3.6.1.2.1.25.2.3.1.4.{root.labels['hrStorageIndex']}").split()[0]
    )
    size = int(
        agent.cli("snmpget", "-Oqv", f"1.3.6.1.2.1.25.2.3.1.5.{root.labels['hrStorageIndex']}").strip()
    )
    assert root.value == units * size
    assert value(fams, P + "host_processes") > 0


def test_ucd_memory_and_load(exporter: NetworkExporter, runtime: Runtime, agent: Agent) -> None:
    fams = probe(exporter, runtime, agent.target, "ucd")
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo).group(1))  # type: ignore[union-attr]
    assert value(fams, P + "ucd_memory_total_bytes") == total_kib * 1024
    load1 = float(Path("/proc/loadavg").read_text().split()[0])
    assert abs(value(fams, P + "ucd_load_average", laNames="Load-1") - load1) < 2
    assert value(fams, P + "ucd_disk_size_bytes", dskPath="/") > 0


def test_ups_values_in_base_units(exporter: NetworkExporter, runtime: Runtime, agent: Agent) -> None:
    fams = probe(exporter, runtime, agent.target, "ups")
    assert value(fams, P + "ups_battery_status", state="batteryNormal") == 1
    assert value(fams, P + "ups_battery_status", state="batteryLow") == 0
    assert value(fams, P + "ups_output_source", state="battery") == 1
    assert value(fams, P + "ups_battery_runtime_seconds") == 42 * 60
    assert value(fams, P + "ups_battery_charge_ratio") == 0.97
    assert value(fams, P + "ups_battery_volts") == 54.5
    assert value(fams, P + "ups_input_frequency_hertz", upsInputLineIndex="1") == 50.0
    assert value(fams, P + "ups_input_volts", upsInputLineIndex="1") == 221
    assert value(fams, P + "ups_output_amperes", upsOutputLineIndex="1") == 12.3
    assert value(fams, P + "ups_output_load_ratio", upsOutputLineIndex="1") == 0.37
    assert value(fams, P + "ups_alarm_info", alarm="batteryBad", upsAlarmId="1") == 1


def test_entity_sensors_scaled_by_type_scale_and_precision(
    exporter: NetworkExporter, runtime: Runtime, agent: Agent
) -> None:
    fams = probe(exporter, runtime, agent.target, "entity_sensor")
    assert value(fams, P + "entity_sensor_temperature_celsius", entPhysicalName="CPU temp") == 23.5
    assert value(fams, P + "entity_sensor_dc_volts", entPhysicalName="PSU 12V") == 12.05
    assert value(fams, P + "entity_sensor_fan_speed_rpm", entPhysicalName="Fan 1") == 5400
    assert value(fams, P + "entity_sensor_humidity_ratio", entPhysicalName="Room humidity") == 0.455
    assert value(fams, P + "entity_sensor_status", entPhysicalName="Fan 1", state="nonoperational") == 1


@pytest.mark.parametrize(
    ("module", "index", "name", "cpu", "memory", "temperature"),
    [("huawei", "16842753", "MPU Board 0", 0.23, 0.61, 41), ("h3c", "30", "Board 1", 0.16, 0.58, 45)],
)
def test_vendor_modules(
    exporter: NetworkExporter,
    runtime: Runtime,
    agent: Agent,
    module: str,
    index: str,
    name: str,
    cpu: float,
    memory: float,
    temperature: float,
) -> None:
    fams = probe(exporter, runtime, agent.target, module)
    labels = {"entPhysicalIndex": index, "entPhysicalName": name}
    assert value(fams, f"{P}{module}_entity_cpu_usage_ratio", **labels) == cpu
    assert value(fams, f"{P}{module}_entity_memory_usage_ratio", **labels) == memory
    assert value(fams, f"{P}{module}_entity_temperature_celsius", **labels) == temperature


def test_if_mib_on_many_interfaces_matches_snmpwalk(
    exporter: NetworkExporter, runtime: Runtime, switch_agent: Agent
) -> None:
    fams = probe(exporter, runtime, switch_agent.target, "if_mib")
    names = cli_values(switch_agent, "1.3.6.1.2.1.31.1.1.1.1")
    assert len(names) == 2 * VETH_PAIRS + 2
    assert value(fams, P + "if_number") == len(names)
    in_octets = cli_values(switch_agent, "1.3.6.1.2.1.31.1.1.1.6")
    out_packets = cli_values(switch_agent, "1.3.6.1.2.1.31.1.1.1.11")
    for index, name in names.items():
        if name == "uplink0":
            continue  # carries the SNMP traffic itself, so it changes between walks
        labels = {"ifIndex": index, "ifName": name, "ifDescr": name}
        assert value(fams, P + "if_in_bytes_total", **labels) == int(in_octets[index])
        assert value(fams, P + "if_out_unicast_packets_total", **labels) == int(out_packets[index])
    port = {v: k for k, v in names.items()}
    assert value(fams, P + "if_oper_status", ifName="port0a", state="down") == 1  # every third pair is down
    assert value(fams, P + "if_oper_status", ifName="port1a", state="up") == 1
    assert value(fams, P + "if_admin_status", ifName="port1a", state="up") == 1
    info = next(
        s for f in fams for s in f.samples if s.name == P + "if_info" and s.labels["ifName"] == "port5a"
    )
    # net-snmp keeps ifAlias itself (empty until set over SNMP), so compare with what snmpwalk sees
    assert info.labels["ifAlias"] == cli_values(switch_agent, "1.3.6.1.2.1.31.1.1.1.18").get(
        port["port5a"], ""
    )
    assert info.labels["ifType"] == "ethernetCsmacd"
    assert switch_agent.netns
    mac = subprocess.run(
        ["ip", "netns", "exec", switch_agent.netns, "cat", "/sys/class/net/port5a/address"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert info.labels["ifPhysAddress"] == mac
    speed_mbit = int(cli_values(switch_agent, "1.3.6.1.2.1.31.1.1.1.15")[port["port1a"]])
    assert value(fams, P + "if_speed_bytes_per_second", ifName="port1a") == speed_mbit * 125000

"""The demo's network, power and server gear: one net-snmp agent per device, and the network exporter.

Each simulated device is a real ``snmpd`` on its own UDP port of 127.0.0.1, with its own sysName and
sysLocation. It serves this machine's real MIB-2 interfaces, host resources and UCD data; ``override``
lines add what net-snmp does not implement (UPS-MIB, ENTITY-SENSOR-MIB, Huawei and H3C board tables)
with plausible values. The inventory's ``monitor:`` entries point at these ports.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part
from demo.servers.snmpd import agent_argv, answers, require_net_snmp
from hospmon.inventory import load_inventory

EXPORTER_PORT = 19116

UPS = "1.3.6.1.2.1.33.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
HUAWEI = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
H3C = "1.3.6.1.4.1.25506.2.6.1.1.1.1"


def _ups(charge: int, minutes: int, load: int) -> list[str]:
    """A UPS on mains with a healthy battery (RFC 1628 UPS-MIB)."""
    return [
        f"override {UPS}.2.1.0 integer 2",  # upsBatteryStatus: batteryNormal
        f"override {UPS}.2.2.0 integer 0",  # upsSecondsOnBattery
        f"override {UPS}.2.3.0 integer {minutes}",  # upsEstimatedMinutesRemaining
        f"override {UPS}.2.4.0 integer {charge}",  # upsEstimatedChargeRemaining (%)
        f"override {UPS}.2.5.0 integer 4080",  # upsBatteryVoltage (0.1 V)
        f"override {UPS}.2.7.0 integer 24",  # upsBatteryTemperature
        f"override {UPS}.3.3.1.2.1 integer 500",  # upsInputFrequency (0.1 Hz)
        f"override {UPS}.3.3.1.3.1 integer 228",  # upsInputVoltage
        f"override {UPS}.4.1.0 integer 3",  # upsOutputSource: normal
        f"override {UPS}.4.4.1.2.1 integer 220",  # upsOutputVoltage
        f"override {UPS}.4.4.1.3.1 integer 1460",  # upsOutputCurrent (0.1 A)
        f"override {UPS}.4.4.1.4.1 integer 32000",  # upsOutputPower (W)
        f"override {UPS}.4.4.1.5.1 integer {load}",  # upsOutputPercentLoad
        f"override {UPS}.6.1.0 uinteger 0",  # upsAlarmsPresent
    ]


def _sensors() -> list[str]:
    """Machine-room temperature, humidity-controller supply voltage and a fan (ENTITY-SENSOR-MIB)."""
    rows = [
        (10, 8, 9, 1, 236, 1, "Cold aisle temperature"),
        (11, 4, 8, 0, 12020, 1, "Controller 12V"),
        (12, 10, 9, 0, 2950, 1, "CRAC fan 1"),
    ]
    lines = []
    for index, kind, scale, precision, value, status, name in rows:
        lines += [
            f"override {SENSOR}.1.{index} integer {kind}",
            f"override {SENSOR}.2.{index} integer {scale}",
            f"override {SENSOR}.3.{index} integer {precision}",
            f"override {SENSOR}.4.{index} integer {value}",
            f"override {SENSOR}.5.{index} integer {status}",
            f'override {ENT_NAME}.{index} octet_str "{name}"',
        ]
    return lines


def _huawei(cpu: int, mem: int, temp: int) -> list[str]:
    """One main processing unit in HUAWEI-ENTITY-EXTENT-MIB."""
    index = 16842753
    return [
        f'override {ENT_NAME}.{index} octet_str "MPU Board 0"',
        f"override {HUAWEI}.5.{index} integer {cpu}",
        f"override {HUAWEI}.7.{index} integer {mem}",
        f"override {HUAWEI}.11.{index} integer {temp}",
    ]


def _h3c(cpu: int, mem: int, temp: int) -> list[str]:
    """One board in HH3C-ENTITY-EXT-MIB."""
    index = 30
    return [
        f'override {ENT_NAME}.{index} octet_str "Board 1"',
        f"override {H3C}.6.{index} integer {cpu}",
        f"override {H3C}.8.{index} integer {mem}",
        f"override {H3C}.12.{index} integer {temp}",
    ]


@dataclass(frozen=True)
class Device:
    """One simulated device: which CI it is, where it listens and what it adds to net-snmp's own data."""

    ci: str
    port: int
    extra: tuple[str, ...] = ()


DEVICES = (
    Device("core-sw-1", 11161, tuple(_huawei(23, 41, 38))),
    Device("core-sw-2", 11162, tuple(_huawei(19, 40, 37))),
    Device("fw-intranet-1", 11163, tuple(_huawei(31, 52, 41))),
    Device("agg-sw-outpatient", 11164, tuple(_h3c(12, 35, 36))),
    Device("agg-sw-inpatient", 11165, tuple(_h3c(15, 36, 35))),
    Device("acc-sw-ed-1f", 11166),
    Device("acc-sw-icu-5f", 11167),
    Device("acc-sw-op-2f", 11168),  # out of warranty; the scripted morning (demo/story.py) takes it down
    Device("ups-mr1-01", 11171, tuple(_ups(100, 48, 41))),
    Device("ups-mr1-02", 11172, tuple(_ups(97, 44, 38))),
    Device("env-mr1", 11173, tuple(_sensors())),
    Device("vm-host-1", 11181),
    Device("vm-host-2", 11182),
    Device("san-1", 11183),
)


# sysUpTime of a device that booted at BOOT (epoch seconds), for net-snmp's `pass`: the simulated devices
# have been up for days, as a hospital's are, rather than since the demo started.
UPTIME_SCRIPT = """#!/bin/sh
ticks=$(( ($(date +%s) - {boot}) * 100 ))
case "$1 $2" in
  "-g .1.3.6.1.2.1.1.3.0") ;;
  "-n .1.3.6.1.2.1.1.3.0"*) exit 0 ;;
  -n*) ;;
  *) exit 0 ;;
esac
printf '.1.3.6.1.2.1.1.3.0\\ntimeticks\\n%s\\n' "$ticks"
"""


def _uptime_script(folder: Path, days_up: float) -> Path:
    """Write the `pass` script serving sysUpTime as if the device booted `days_up` days ago."""
    script = folder / "uptime.sh"
    script.write_text(UPTIME_SCRIPT.format(boot=int(time.time() - days_up * 86400)), encoding="utf-8")
    script.chmod(0o755)
    return script


def _agent_config(ci: str, name: str, location: str, extra: tuple[str, ...]) -> str:
    return (
        "\n".join(
            [
                "rocommunity public 127.0.0.1",
                f"sysName {ci}",
                f"sysLocation {location}",
                f"sysDescr {name} (hospmon demo, net-snmp)",
                "sysContact it-noc@hospital.example",
                "includeAllDisks 5%",
                "load 64 64 64",
                "dontLogTCPWrappersConnects yes",
                *extra,
            ]
        )
        + "\n"
    )


def agent_part(device: Device, conf: Path) -> Part:
    """Return the part running one simulated device's snmpd with `conf`, its files beside it.

    The device has been up for days: a `pass` script serves its sysUpTime from a boot some days back.
    """
    folder = conf.parent
    uptime = _uptime_script(folder, days_up=12 + device.port % 37 + (device.port % 10) / 10)
    with conf.open("a", encoding="utf-8") as out:
        # Ahead of net-snmp's own sysUpTime (priority 127): lower numbers win.
        out.write(f"pass -p 10 .1.3.6.1.2.1.1.3 {uptime}\n")
    return Part(
        name=f"snmpd-{device.ci}",
        argv=agent_argv(conf, folder, [f"udp:{ports.addr(device.port)}"]),
        ready_url="",
        shown_url=f"udp://{ports.addr(device.port)}",
        env={"SNMP_PERSISTENT_DIR": str(folder), "MIBS": ""},
        ready=functools.partial(answers, "127.0.0.1", ports.port(device.port)),
    )


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write one snmpd config per device and return the agents, then the network exporter."""
    require_net_snmp()
    inv = load_inventory(inventory)
    base = run / "network"
    result = []
    for device in DEVICES:
        ci = inv.cis[device.ci]
        folder = base / device.ci
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "snmpd.conf"
        name, location = str(inv.name_of(ci.id)), ci.location or "machine room"
        conf.write_text(_agent_config(ci.id, name, location, device.extra), encoding="utf-8")
        result.append(agent_part(device, conf))
    # The exporter reads its config, the lab community (secrets/) and the inventory (../inventory) from here.
    (base / "secrets").mkdir(exist_ok=True)
    community = base / "secrets" / "snmp-community"
    community.write_text("public\n", encoding="utf-8")
    community.chmod(0o600)
    result.append(exporter_part("network", EXPORTER_PORT, exporter_config("network", base), cwd=base))
    return result

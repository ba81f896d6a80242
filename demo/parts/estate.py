"""The demo's estate beyond switches and servers: an SNMPv1-only access switch, an APC UPS, a ward printer,
a FortiGate, a Brocade FC switch (each a real ``snmpd`` whose ``override`` lines carry the vendor MIB's
values), a self-service kiosk's status page on 18082, and the reach exporter on 19115.

The printer is low on toner and one FC port has no light, so the estate dashboard and the info and
warning alerts have something to show; everything else is healthy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part
from demo.parts.network import Device, _agent_config, agent_part
from hospmon.inventory import load_inventory

REACH, KIOSK = 19115, 18082
APC = "1.3.6.1.4.1.318.1.1.1"
PRT = "1.3.6.1.2.1.43"
HR = "1.3.6.1.2.1.25.3"
SW = "1.3.6.1.4.1.1588.2.1.1.1"
FGT = "1.3.6.1.4.1.12356.101"


def apc_ups() -> list[str]:
    """A Smart-UPS on mains, full, 37 minutes at 41 % load (PowerNet-MIB)."""
    values = {
        "1.1.1.0": ("octet_str", '"Smart-UPS SRT 6000"'),
        "2.1.1.0": ("integer", "2"), "2.1.2.0": ("uinteger", "0"),
        "2.2.1.0": ("uinteger", "100"), "2.2.2.0": ("uinteger", "27"), "2.2.3.0": ("uinteger", "222000"),
        "2.2.4.0": ("integer", "1"), "3.2.1.0": ("uinteger", "229"), "3.2.4.0": ("uinteger", "50"),
        "3.2.5.0": ("integer", "1"), "4.1.1.0": ("integer", "2"), "4.2.1.0": ("uinteger", "230"),
        "4.2.3.0": ("uinteger", "41"), "4.2.4.0": ("uinteger", "12"), "7.2.3.0": ("integer", "1"),
        "7.2.4.0": ("octet_str", '"11/02/26"'), "8.1.0": ("integer", "1"),
    }  # fmt: skip
    return [f"override {APC}.{oid} {kind} {value}" for oid, (kind, value) in values.items()]


def ward_printer() -> list[str]:
    """A ward-3 laser printer, idle, its black toner at 6 % (Printer-MIB, hrPrinterTable)."""
    return [
        f'override {HR}.2.1.3.1 octet_str "HP LaserJet M507"',
        f"override {HR}.5.1.1.1 integer 3",
        f"override {HR}.5.1.2.1 octet_str 0x20",  # lowToner
        f"override {PRT}.11.1.1.5.1.1 integer 3",
        f'override {PRT}.11.1.1.6.1.1 octet_str "Black Toner Cartridge HP 89A"',
        f"override {PRT}.11.1.1.8.1.1 integer 100",
        f"override {PRT}.11.1.1.9.1.1 integer 6",
        f"override {PRT}.8.2.1.9.1.1 integer 550",
        f"override {PRT}.8.2.1.10.1.1 integer 320",
        f'override {PRT}.8.2.1.13.1.1 octet_str "Tray 2"',
        f"override {PRT}.18.1.1.2.1.1 integer 4",
        f"override {PRT}.18.1.1.7.1.1 integer 1104",  # markerTonerAlmostEmpty
    ]


def fortigate() -> list[str]:
    """A FortiGate at ordinary load (FORTINET-FORTIGATE-MIB)."""
    values = {
        "1": '"v7.2.8,build1639"',
        "3": "38",
        "4": "52",
        "6": "2048",
        "7": "119000",
        "8": "61234",
        "11": "420",
    }
    lines = [
        f"override {FGT}.4.1.{k}.0 {'octet_str' if k == '1' else 'uinteger'} {v}" for k, v in values.items()
    ]
    return [*lines, f"override {FGT}.13.1.1.0 integer 3"]


def brocade() -> list[str]:
    """A Brocade 6505: ports 1-2 online to the array, port 3 (a spare path) with no light (SW-MIB)."""
    lines = [f"override {SW}.1.7.0 integer 1"]
    for port, (phy, oper, name) in {
        1: (6, 1, "san-1-ctrl-a"),
        2: (6, 1, "nas-pacs-1"),
        3: (4, 2, ""),
    }.items():
        lines += [
            f"override {SW}.6.2.1.3.{port} integer {phy}",
            f"override {SW}.6.2.1.4.{port} integer {oper}",
            f"override {SW}.6.2.1.5.{port} integer 1",
            f"override {SW}.6.2.1.11.{port} counter {port * 123456}",
            f"override {SW}.6.2.1.12.{port} counter {port * 654321}",
            f"override {SW}.6.2.1.22.{port} counter 0",
            f"override {SW}.6.2.1.26.{port} counter 0",
            f"override {SW}.6.2.1.28.{port} counter 0",
            f'override {SW}.6.2.1.36.{port} octet_str "{name}"',
        ]
    return lines


DEVICES = (
    Device("acc-sw-old-b2", 11191),  # answers SNMPv1: if_mib falls back to the 32-bit counters
    Device("ups-apc-or", 11192, tuple(apc_ups())),
    Device("prn-ward3-1", 11193, tuple(ward_printer())),
    Device("fw-internet-1", 11194, tuple(fortigate())),
    Device("fc-sw-a", 11195, tuple(brocade())),
)


def agent_config(run: Path, inventory: Path, device: Device) -> Path:
    """Write one device's snmpd.conf under run/estate/<ci>/ and return its path."""
    inv = load_inventory(inventory)
    ci = inv.cis[device.ci]
    folder = run / "estate" / device.ci
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "snmpd.conf"
    location = ci.location or "hospital"
    conf.write_text(_agent_config(ci.id, str(inv.name_of(ci.id)), location, device.extra), encoding="utf-8")
    return conf


def parts(run: Path, inventory: Path) -> list[Part]:
    """Return the estate's agents, the kiosk's status page and the reach exporter."""
    result = [agent_part(device, agent_config(run, inventory, device)) for device in DEVICES]
    status = ports.url(KIOSK, "/status")
    kiosk = [sys.executable, "-m", "demo.kiosk.status", "--listen", ports.addr(KIOSK)]
    result.append(Part("kiosk-opd-1-status-page", kiosk, status, status))
    # The exporter reads its config and the inventory (../inventory) from run/reach, as the others do.
    folder = run / "reach"
    folder.mkdir(parents=True, exist_ok=True)
    result.append(exporter_part("reach", REACH, exporter_config("reach", folder), cwd=folder))
    return result

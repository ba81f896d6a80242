"""Recordings of the hospital's estate, built from each vendor MIB's structure with values a test can check:
an APC UPS whose batteries want replacing, an Eaton UPS on battery, a ward printer out of paper, three
firewalls, a Brocade FC switch with a pulled cable and a faulty port, a NetApp array with a failed disk."""

from __future__ import annotations

import datetime as dt

from tests.network.snmprec import Snmprec

APC = "1.3.6.1.4.1.318.1.1.1"
XUPS = "1.3.6.1.4.1.534.1"
PRT = "1.3.6.1.2.1.43"
HR = "1.3.6.1.2.1.25.3"
SW_PORT = "1.3.6.1.4.1.1588.2.1.1.1.6.2.1"
NETAPP = "1.3.6.1.4.1.789.1"
PRINTER_DEVICE = 1


def _old_nic(rec: Snmprec, descr: str, speed: int, octets: tuple[int, int]) -> Snmprec:
    """An ifTable with one interface and no ifXTable, as UPS cards and printers answer."""
    return rec.table(
        "1.3.6.1.2.1.2.2.1",
        {1: {1: ("int", 1), 2: ("str", descr), 3: ("int", 6), 5: ("gauge", speed), 7: ("int", 1),
             8: ("int", 1), 10: ("counter", octets[0]), 11: ("counter", 4021), 16: ("counter", octets[1]),
             17: ("counter", 3990)}},
    )  # fmt: skip


def apc_ups() -> str:
    """Return a Smart-UPS on mains whose batteries want replacing; its last self-test failed."""
    rec = Snmprec().system("APC Web/SNMP Management Card", "1.3.6.1.4.1.318.1.3.27", "ups-mr-a3")
    _old_nic(rec, "lo0", 100_000_000, (123_456_789, 98_765_432))
    rec.scalars(f"{APC}.1.1", {1: ("str", "Smart-UPS SRT 6000")})
    rec.scalars(f"{APC}.2.1", {1: ("int", 2), 2: ("ticks", 0)})
    rec.scalars(f"{APC}.2.2", {1: ("gauge", 100), 2: ("gauge", 31), 3: ("ticks", 222_000), 4: ("int", 2)})
    rec.scalars(f"{APC}.3.2", {1: ("gauge", 229), 4: ("gauge", 50), 5: ("int", 9)})
    rec.scalars(f"{APC}.4.1", {1: ("int", 2)})
    rec.scalars(f"{APC}.4.2", {1: ("gauge", 230), 3: ("gauge", 41), 4: ("gauge", 12)})
    rec.scalars(f"{APC}.7.2", {3: ("int", 2), 4: ("str", "11/02/26")})
    rec.scalars(f"{APC}.8", {1: ("int", 1)})
    return rec.text()


def eaton_ups() -> str:
    """Return a three-phase Eaton 93PM on battery after a blackout, with 6.5 minutes left."""
    rec = Snmprec().system("Eaton 93PM", "1.3.6.1.4.1.534.1", "ups-dc-1")
    rec.scalars(f"{XUPS}.2", {1: ("int", 390), 2: ("int", 432), 4: ("int", 38), 5: ("int", 2)})
    rec.scalars(f"{XUPS}.3", {1: ("int", 0)})
    rec.table(f"{XUPS}.3.4.1", {p: {1: ("int", p), 2: ("int", 0)} for p in (1, 2, 3)})
    rec.scalars(f"{XUPS}.4", {1: ("int", 64), 2: ("int", 500), 5: ("int", 5)})
    rec.table(
        f"{XUPS}.4.4.1",
        {p: {1: ("int", p), 2: ("int", 230), 3: ("int", 30 + p), 4: ("int", 6_900 + p)} for p in (1, 2, 3)},
    )
    rec.scalars(f"{XUPS}.6", {1: ("int", 24)})
    rec.scalars(f"{XUPS}.7", {1: ("gauge", 2)})
    rec.table(f"{XUPS}.7.2.1", {
        7: {1: ("int", 7), 2: ("oid", f"{XUPS}.7.3"), 3: ("ticks", 1000)},
        8: {1: ("int", 8), 2: ("oid", f"{XUPS}.7.14"), 3: ("ticks", 1000)},
    })  # fmt: skip
    rec.scalars(f"{XUPS}.8", {2: ("int", 2)})
    return rec.text()


def ward_printer() -> str:
    """Return a ward-3 laser printer with no paper in tray 2 and its black toner at 5 %."""
    rec = Snmprec().system("HP LaserJet M507", "1.3.6.1.4.1.11.2.3.9.1", "prn-ward3-1")
    _old_nic(rec, "NetDrvr", 100_000_000, (5_000_000, 900_000))
    rec.table(f"{HR}.2.1", {PRINTER_DEVICE: {1: ("int", PRINTER_DEVICE), 3: ("str", "HP LaserJet M507")}})
    # hrPrinterDetectedErrorState: noPaper (bit 1) and lowToner (bit 2) -> 0b0110_0000
    rec.table(f"{HR}.5.1", {PRINTER_DEVICE: {1: ("int", 3), 2: ("hex", "60")}})
    rec.table(f"{PRT}.11.1.1", {
        f"{PRINTER_DEVICE}.1": {5: ("int", 3), 6: ("str", "Black Toner Cartridge HP 89A"), 8: ("int", 100),
                                9: ("int", 5)},
        f"{PRINTER_DEVICE}.2": {5: ("int", 15), 6: ("str", "Fuser Kit"), 8: ("int", -2), 9: ("int", -3)},
    })  # fmt: skip
    rec.table(f"{PRT}.8.2.1", {
        f"{PRINTER_DEVICE}.1": {9: ("int", 100), 10: ("int", 40), 13: ("str", "Tray 1")},
        f"{PRINTER_DEVICE}.2": {9: ("int", 550), 10: ("int", 0), 13: ("str", "Tray 2")},
    })  # fmt: skip
    rec.table(f"{PRT}.18.1.1", {
        f"{PRINTER_DEVICE}.1": {2: ("int", 3), 7: ("int", 808)},
        f"{PRINTER_DEVICE}.2": {2: ("int", 4), 7: ("int", 1104)},
    })  # fmt: skip
    return rec.text()


def fortiguard_version(number: str, age_days: float) -> str:
    """Return a FortiGuard package version as FortiOS shows it, dated `age_days` before now (UTC, minutes)."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
    return f"{number}({when:%Y-%m-%d %H:%M})"


# FortiGuard packages of the internet firewall: antivirus updated this morning, the IPS stuck for 9 days (its
# subscription lapsed), the extended databases current. (version, age in days) per fgSysVersion* column.
FORTIGUARD = {1: ("91.08412", 0.25), 2: ("27.00891", 9.0), 3: ("1.00000", 0.5), 4: ("27.00891", 0.5)}


def fortigate() -> str:
    """Return a FortiGate 200F cluster member under load, whose IPS signatures stopped updating."""
    rec = Snmprec().system("FortiGate-200F", "1.3.6.1.4.1.12356.101.1.2006", "fw-internet-1")
    rec.scalars("1.3.6.1.4.1.12356.101.4.1", {
        1: ("str", "v7.2.8,build1639,240313 (GA.M)"), 3: ("gauge", 87), 4: ("gauge", 63), 6: ("gauge", 2048),
        7: ("gauge", 119_000), 8: ("gauge", 182_340), 11: ("gauge", 1_250),
    })  # fmt: skip
    rec.scalars(
        "1.3.6.1.4.1.12356.101.4.2", {c: ("str", fortiguard_version(*v)) for c, v in FORTIGUARD.items()}
    )
    rec.table("1.3.6.1.4.1.12356.101.3.2.1.1", {1: {2: ("str", "root")}, 2: {2: ("str", "guest-wifi")}})
    rec.table("1.3.6.1.4.1.12356.101.8.2.1.1", {
        1: {1: ("counter", 37), 2: ("counter", 35)}, 2: {1: ("counter", 4), 2: ("counter", 4)},
    })  # fmt: skip
    rec.table("1.3.6.1.4.1.12356.101.9.2.1.1", {
        1: {1: ("counter", 1_204), 2: ("counter", 1_180), 3: ("counter", 12), 4: ("counter", 96)},
        2: {1: ("counter", 51), 2: ("counter", 51), 3: ("counter", 0), 4: ("counter", 3)},
    })  # fmt: skip
    rec.scalars("1.3.6.1.4.1.12356.101.13.1", {1: ("int", 3)})
    return rec.text()


def hillstone() -> str:
    """Return a Hillstone SG-6000 with two virtual systems."""
    rec = Snmprec().system("Hillstone SG-6000-E3960", "1.3.6.1.4.1.28557.1.21", "fw-intranet-1")
    rec.scalars("1.3.6.1.4.1.28557.2.2.1", {3: ("int", 35), 17: ("int", 48)})
    rec.table("1.3.6.1.4.1.28557.2.28.1.2.1", {1: {1: ("int", 1), 2: ("str", "CPU"), 3: ("int", 52)}})
    rec.table("1.3.6.1.4.1.28557.2.30.1.1.1", {0: {6: ("int", 40_210)}, 1: {6: ("int", 1_502)}})
    return rec.text()


def sangfor() -> str:
    """Return a Sangfor NGAF on the insurance network with its session table nearly full."""
    rec = Snmprec().system("Sangfor NGAF", "1.3.6.1.4.1.35047.1", "fw-insurance-1")
    rec.add("1.3.6.1.4.1.35047.1.3.0", "int", 22)
    rec.scalars(
        "1.3.6.1.4.1.35047.2.1.1",
        {1: ("int", 312), 2: ("int", 2_000), 5: ("int", 500_000), 6: ("int", 476_000)},
    )
    return rec.text()


def brocade() -> str:
    """Return a Brocade 6505 in front of the PACS array: port 1's cable pulled, port 2 faulty."""
    rec = Snmprec().system("Brocade 6505", "1.3.6.1.4.1.1588.2.1.1.1", "fc-sw-a")
    rec.add("1.3.6.1.4.1.1588.2.1.1.1.1.7.0", "int", 1)
    rows = {
        1: (6, 1, 1, "pacs-array-ctrl-a"),
        2: (4, 2, 1, "pacs-array-ctrl-b"),
        3: (7, 4, 1, "his-db-hba-1"),
        4: (4, 2, 2, ""),
    }
    rec.table(SW_PORT, {
        i: {1: ("int", i), 3: ("int", phy), 4: ("int", op), 5: ("int", adm), 11: ("counter", 1_000 * i),
            12: ("counter", 2_000 * i), 22: ("counter", 17 if i == 3 else 0), 26: ("counter", 5 * i),
            28: ("counter", 0), 36: ("str", name)}
        for i, (phy, op, adm, name) in rows.items()
    })  # fmt: skip
    return rec.text()


def netapp() -> str:
    """Return a NetApp FAS with one failed disk and its PACS volume 93 % full."""
    rec = Snmprec().system("NetApp Release 9.8P6", "1.3.6.1.4.1.789.2.5", "nas-pacs-1")
    rec.add(f"{NETAPP}.2.2.4.0", "int", 4).add(f"{NETAPP}.2.1.3.0", "int", 37)
    rec.add(f"{NETAPP}.2.4.2.0", "int", 0).add(f"{NETAPP}.2.4.4.0", "int", 0)
    rec.scalars(f"{NETAPP}.6.4", {1: ("int", 24), 7: ("int", 1), 8: ("int", 2)})
    rec.table(f"{NETAPP}.5.4.1", {
        1: {1: ("int", 1), 2: ("str", "/vol/vol0/"), 29: ("counter64", 104_857_600),
            30: ("counter64", 20_971_520)},
        2: {1: ("int", 2), 2: ("str", "/vol/pacs_images/"), 29: ("counter64", 40_000_000_000),
            30: ("counter64", 37_200_000_000)},
    })  # fmt: skip
    return rec.text()

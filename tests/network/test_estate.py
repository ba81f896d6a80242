"""The estate's modules against recordings built from each vendor MIB's structure (tests.network.devices):
every value a night-shift engineer would act on, checked with its unit and labels."""

from __future__ import annotations

import time

import pytest

from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.devices.estate import FORTIGUARD
from tests.network.helpers import probe, value

P = "hospmon_snmp_"


def states(fams: list, name: str) -> dict[str, float]:  # type: ignore[type-arg]
    """Return {state or flag: value} of one enum or bits family with a single row."""
    return {
        s.labels.get("state", s.labels.get("flag", "")): s.value
        for f in fams
        for s in f.samples
        if s.name == P + name
    }


def test_apc_ups_wants_new_batteries(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> None:
    fams = probe(exporter, runtime, recorded, "apc_ups", auth="apc-ups")
    assert value(fams, P + "ups_battery_runtime_seconds") == 2220  # TimeTicks 222000 / 100
    assert value(fams, P + "ups_battery_charge_ratio") == 1.0
    assert value(fams, P + "ups_battery_temperature_celsius") == 31
    assert value(fams, P + "ups_output_load_ratio") == 0.41
    assert value(fams, P + "ups_input_volts") == 229
    assert states(fams, "ups_output_source")["normal"] == 1  # upsBasicOutputStatus onLine
    assert states(fams, "ups_battery_replace")["batteryNeedsReplacing"] == 1
    assert states(fams, "ups_self_test_result")["failed"] == 1
    assert states(fams, "ups_input_last_transfer_cause")["selfTest"] == 1
    assert value(fams, P + "ups_identity_info", model="Smart-UPS SRT 6000") == 1


def test_apc_card_without_ifxtable_still_shows_traffic(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "if_mib", auth="apc-ups")
    assert value(fams, P + "if_in_bytes_total", ifName="lo0") == 123_456_789
    assert value(fams, P + "if_speed_bytes_per_second", ifName="lo0") == 12_500_000


def test_eaton_ups_on_battery(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> None:
    fams = probe(exporter, runtime, recorded, "eaton_ups", auth="eaton-ups")
    assert states(fams, "ups_output_source")["battery"] == 1
    assert value(fams, P + "ups_battery_runtime_seconds") == 390
    assert value(fams, P + "ups_battery_charge_ratio") == 0.38
    assert value(fams, P + "ups_output_frequency_hertz") == 50
    assert value(fams, P + "ups_input_volts", xupsInputPhase="2") == 0
    assert value(fams, P + "ups_output_watts", xupsOutputPhase="3") == 6903
    assert value(fams, P + "ups_alarms") == 2
    assert value(fams, P + "ups_alarm_info", alarm="onBattery", xupsAlarmID="7") == 1
    assert value(fams, P + "ups_alarm_info", alarm="inputFailure", xupsAlarmID="8") == 1
    assert states(fams, "ups_self_test_result")["passed"] == 1


def test_ward_printer_out_of_paper_and_low_on_toner(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "printer", auth="ward-printer")
    flags = states(fams, "printer_error_state")
    assert {f for f, v in flags.items() if v} == {"noPaper", "lowToner"}
    assert len(flags) == 15
    toner = {"printer": "HP LaserJet M507", "supply": "Black Toner Cartridge HP 89A", "supply_type": "toner"}
    assert value(fams, P + "printer_supply_level", **toner) == 5
    assert value(fams, P + "printer_supply_capacity", **toner) == 100
    assert value(fams, P + "printer_supply_level", supply="Fuser Kit") == -3  # "some remains"
    assert value(fams, P + "printer_tray_level", tray="Tray 2") == 0
    assert value(fams, P + "printer_tray_capacity", tray="Tray 2") == 550
    assert value(fams, P + "printer_alert_info", alert="inputMediaSupplyEmpty", severity="critical") == 1
    assert value(fams, P + "printer_alert_info", alert="markerTonerAlmostEmpty", severity="warning") == 1
    assert states(fams, "printer_status")["idle"] == 1


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("fortigate", {"firewall_cpu_ratio": 0.87, "firewall_memory_ratio": 0.63,
                       "firewall_sessions": 182_340, "firewall_session_rate": 1_250,
                       "firewall_disk_used_bytes": 2048 * 1048576}),
        ("hillstone", {"firewall_cpu_ratio": 0.35, "firewall_memory_ratio": 0.48}),
        ("sangfor", {"firewall_cpu_ratio": 0.22, "firewall_sessions": 476_000,
                     "firewall_sessions_max": 500_000, "firewall_users_online": 312}),
    ],
)  # fmt: skip
def test_firewalls_share_their_series_names(
    exporter: NetworkExporter, runtime: Runtime, recorded: str, module: str, expected: dict[str, float]
) -> None:
    fams = probe(exporter, runtime, recorded, module, auth=module)
    for name, want in expected.items():
        assert value(fams, P + name) == want, name


def test_hillstone_sessions_per_virtual_system(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "hillstone", auth="hillstone")
    assert value(fams, P + "firewall_sessions", vsys="0") == 40_210
    assert value(fams, P + "firewall_temperature_celsius", sensor="CPU") == 52


def test_brocade_ports(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> None:
    fams = probe(exporter, runtime, recorded, "brocade_fc", auth="brocade-fc")

    def port(name: str, port_name: str) -> dict[str, float]:
        return {
            s.labels["state"]: s.value
            for f in fams
            for s in f.samples
            if s.name == P + name and s.labels["port_name"] == port_name
        }

    assert port("fc_port_oper_status", "pacs-array-ctrl-a")["online"] == 1
    assert port("fc_port_oper_status", "pacs-array-ctrl-b")["offline"] == 1
    assert port("fc_port_admin_status", "pacs-array-ctrl-b")["online"] == 1  # wanted up: a pulled cable
    assert port("fc_port_phy_state", "pacs-array-ctrl-b")["noLight"] == 1
    assert port("fc_port_oper_status", "his-db-hba-1")["faulty"] == 1
    assert value(fams, P + "fc_port_crc_errors_total", port_name="his-db-hba-1") == 17
    assert value(fams, P + "fc_port_rx_bytes_total", port="2") == 4 * 4_000
    assert states(fams, "fc_switch_status")["online"] == 1


def test_netapp_failed_disk_and_full_volume(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "netapp", auth="netapp")
    assert states(fams, "storage_global_status")["nonCritical"] == 1
    assert value(fams, P + "storage_disks_failed") == 1
    assert value(fams, P + "storage_disks_spare") == 2
    assert value(fams, P + "storage_volume_size_bytes", volume="/vol/pacs_images/") == 40_000_000_000 * 1024
    assert value(fams, P + "storage_volume_used_bytes", volume="/vol/pacs_images/") == 37_200_000_000 * 1024
    assert value(fams, P + "storage_cpu_ratio") == 0.37


def test_fortigate_signature_packages_and_their_age(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "fortigate", auth="fortigate")
    served = {
        s.labels["database"]: s.labels["version"]
        for f in fams
        for s in f.samples
        if s.name == P + "firewall_signature_info"
    }
    # The recording was built when the session's snmpsimd started, to the minute: its dates are that old.
    built = value(fams, P + "firewall_signature_timestamp_seconds", database="antivirus") + 0.25 * 86400
    assert 0 <= time.time() - built < 3600
    for column, database in ((1, "antivirus"), (2, "ips"), (3, "antivirus_extended"), (4, "ips_extended")):
        number, age_days = FORTIGUARD[column]
        assert served[database] == number
        dated = value(fams, P + "firewall_signature_timestamp_seconds", database=database)
        assert abs(built - age_days * 86400 - dated) <= 60, database
    assert value(fams, P + "firewall_intrusions_detected_total", vdom="root") == 1_204
    assert value(fams, P + "firewall_ips_detections_total", vdom="root", severity="critical") == 12
    assert value(fams, P + "firewall_viruses_blocked_total", vdom="guest-wifi") == 4

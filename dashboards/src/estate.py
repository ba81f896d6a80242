"""Devices beyond switches and servers: kiosks and terminals, UPSs, ward printers, firewalls, antivirus and
IPS engines, FC switches and storage arrays, one row per family."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from panels import bars, graph, new_dashboard, state_panel, table_panel

UID = "hospmon-estate"
HIDDEN = ["Time", "__name__", "job", "instance", "tier", "module"]


def build() -> dashboard.Dashboard:
    """The estate dashboard."""
    return (
        new_dashboard(
            UID,
            "hospmon / Estate: kiosks, UPS, printers, firewalls, SAN",
            "What answers only ping or a port, and the vendor devices the SNMP modules read.",
        )
        .with_row(dashboard.Row("Kiosks and terminals"))
        .with_panel(
            state_panel(
                "Self-service kiosks",
                'min by (ci) (hospmon_probe_success{job="reach"} and on (ci) hospmon_ci_info{kind="kiosk"})',
                "{{ci}}",
                "Each kiosk: Working when ping, its service port and its in-service page all pass.",
                5,
            )
        )
        .with_panel(
            graph(
                "Ping round trip",
                'hospmon_icmp_phase_duration_seconds{phase="rtt"}',
                "{{ci}}",
                "ICMP echo round trip of every CI the reach exporter pings.",
                unit="s",
            )
        )
        .with_panel(
            table_panel(
                "Failing reach probes and why",
                'hospmon_probe_failure{job="reach"} == 1',
                "Kiosks, terminals, printers' ports, DICOM and HL7 ports and resolvers that fail, and why.",
                HIDDEN,
                span=12,
            )
        )
        .with_row(dashboard.Row("UPS"))
        .with_panel(
            bars(
                "Battery runtime left",
                "min by (ci) (hospmon_snmp_ups_battery_runtime_seconds)",
                "{{ci}}",
                "Runtime each UPS estimates at its present load (RFC 1628, APC and Eaton alike).",
                unit="s",
            )
        )
        .with_panel(
            bars(
                "Load",
                "max by (ci) (hospmon_snmp_ups_output_load_ratio)",
                "{{ci}}",
                "Output load as a share of each UPS's capacity.",
                unit="percentunit",
            )
        )
        .with_panel(
            table_panel(
                "UPS states that need someone",
                'hospmon_snmp_ups_output_source{state=~"battery|bypass"} == 1'
                ' or hospmon_snmp_ups_battery_replace{state="batteryNeedsReplacing"} == 1'
                ' or hospmon_snmp_ups_self_test_result{state="failed"} == 1',
                "On battery or bypass, batteries to replace, failed self-tests.",
                HIDDEN,
            )
        )
        .with_row(dashboard.Row("Printers"))
        .with_panel(
            bars(
                "Supplies left",
                "(hospmon_snmp_printer_supply_level > 0) / (hospmon_snmp_printer_supply_capacity > 0)",
                "{{ci}} {{supply}}",
                "Toner, ink and ribbon left in each printer (Printer-MIB).",
                unit="percentunit",
            )
        )
        .with_panel(
            table_panel(
                "Printer conditions",
                "hospmon_snmp_printer_error_state == 1",
                "Paper out, jams, open doors, low toner, as each printer detects them (HOST-RESOURCES-MIB).",
                HIDDEN,
                span=12,
            )
        )
        .with_row(dashboard.Row("Firewalls"))
        .with_panel(
            graph(
                "Firewall CPU",
                "hospmon_snmp_firewall_cpu_ratio",
                "{{ci}}",
                "CPU of FortiGate, Hillstone and Sangfor firewalls.",
                unit="percentunit",
            )
        )
        .with_panel(
            graph(
                "Firewall sessions",
                "sum by (ci) (hospmon_snmp_firewall_sessions)",
                "{{ci}}",
                "Sessions open through each firewall (summed over virtual systems).",
            )
        )
        .with_row(dashboard.Row("Antivirus and IPS"))
        .with_panel(
            bars(
                "Signature age",
                "time() - hospmon_antivirus_signature_timestamp_seconds"
                ' or time() - hospmon_snmp_firewall_signature_timestamp_seconds{database=~"antivirus|ips"}',
                "{{ci}} {{database}}",
                "How old the signatures each engine has loaded are (ClamAV's daily database, FortiGuard's "
                "antivirus and IPS packages): SignaturesOutdated warns past 3 days.",
                unit="s",
            )
        )
        .with_panel(
            state_panel(
                "Antivirus engines",
                'hospmon_probe_success{job="reach", module="clamav"}',
                "{{ci}}",
                "Each ClamAV engine: Working when it answers VERSION and STATS with its signatures loaded.",
                5,
                span=12,
            )
        )
        .with_panel(
            graph(
                "IPS detections",
                "sum by (ci, severity) (rate(hospmon_snmp_firewall_ips_detections_total[$__rate_interval]))",
                "{{ci}} {{severity}}",
                "Critical and high severity detections per second by each firewall's IPS (FortiGate).",
            )
        )
        .with_panel(
            graph(
                "Viruses blocked",
                "sum by (ci) (rate(hospmon_snmp_firewall_viruses_blocked_total[$__rate_interval]))",
                "{{ci}}",
                "Viruses blocked per second by each firewall's antivirus profiles (FortiGate).",
            )
        )
        .with_row(dashboard.Row("SAN and storage"))
        .with_panel(
            table_panel(
                "FC ports not online",
                'hospmon_snmp_fc_port_oper_status{state!="online"} == 1',
                "Brocade ports offline or faulty, with their names.",
                HIDDEN,
                span=12,
            )
        )
        .with_panel(
            graph(
                "FC port CRC errors",
                "rate(hospmon_snmp_fc_port_crc_errors_total[$__rate_interval])",
                "{{ci}} {{port_name}}",
                "CRC errors per second by FC port: a dirty fibre or failing SFP.",
            )
        )
        .with_panel(
            bars(
                "Volume fill",
                "hospmon_snmp_storage_volume_used_bytes / hospmon_snmp_storage_volume_size_bytes",
                "{{ci}} {{volume}}",
                "Share of each array volume in use; the PACS archive stops storing when it fills.",
                unit="percentunit",
            )
        )
        .with_panel(
            table_panel(
                "Array health",
                'hospmon_snmp_storage_global_status{state!="ok"} == 1'
                " or hospmon_snmp_storage_disks_failed > 0",
                "Arrays not reporting ok, and failed disks.",
                HIDDEN,
                span=12,
            )
        )
    )

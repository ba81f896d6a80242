"""A night in the machine room, through the real chain: net-snmp and `logger` send, hospmon-event-receiver
maps, a real Alertmanager groups, the router opens incidents with priority and owner, and ends them."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import pytest
import requests

from demo.senders import link_trap, send_all
from hospmon.inventory import load_inventory
from tests.events.conftest import AUTH_KEY, COMMUNITY, ENGINE_ID, PRIV_KEY, REPO, TRAP_RELAY, Chain, wait
from tests.servers import require

LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
V3 = [
    "-v",
    "3",
    "-u",
    "hospmon-trap",
    "-l",
    "authPriv",
    "-a",
    "SHA-256",
    "-A",
    AUTH_KEY,
    "-x",
    "AES",
    "-X",
    PRIV_KEY,
]
V2C = ["-v", "2c", "-c", COMMUNITY]
INVENTORY = load_inventory(REPO / "demo" / "inventory")

pytestmark = pytest.mark.slow


def link(trap: str, if_index: int, name: str) -> list[str]:
    """Return snmptrap arguments for IF-MIB linkDown/linkUp of one port (admin up, oper down or up)."""
    oper = "2" if trap == LINK_DOWN else "1"
    return [
        "", trap,
        f"1.3.6.1.2.1.2.2.1.1.{if_index}", "i", str(if_index),
        f"1.3.6.1.2.1.2.2.1.7.{if_index}", "i", "1",
        f"1.3.6.1.2.1.2.2.1.8.{if_index}", "i", oper,
        f"1.3.6.1.2.1.31.1.1.1.1.{if_index}", "s", name,
    ]  # fmt: skip


def owner(ci: str) -> str:
    """Return the id of the team the inventory says owns a CI."""
    return INVENTORY.owner_team(ci).id


def one_incident(chain: Chain, ci: str, **params: str) -> dict[str, Any]:
    """Wait for exactly one incident of `ci` matching `params`, and return it."""
    [incident] = wait(lambda: chain.incidents(ci, **params), f"an incident for {ci} {params}")
    return incident


def logger(chain: Chain, *args: str) -> None:
    """Send one line with util-linux logger (from 127.0.0.1)."""
    result = subprocess.run(
        [require("logger"), "-n", "127.0.0.1", *args], capture_output=True, text=True, timeout=10
    )
    assert result.returncode == 0, result.stderr


def test_icu_switch_v3_authpriv_link_trap_pages_network_p1_and_link_up_resolves(chain: Chain) -> None:
    # 03:10: the ICU floor-5 access switch loses port 24 and says so with an SNMPv3 authPriv trap.
    chain.snmp("snmptrap", "127.0.0.2", [*V3, "-e", ENGINE_ID], link(LINK_DOWN, 24, "GigabitEthernet0/0/24"))
    incident = one_incident(chain, "acc-sw-icu-5f")
    assert incident["priority"] == "P1" and incident["team"] == owner("acc-sw-icu-5f")
    assert incident["status"] == "triggered"
    [alert] = chain.am_alerts("acc-sw-icu-5f")
    labels = alert["labels"]
    assert labels["alertname"] == "NetworkLinkDown" and labels["source"] == "trap"
    assert labels["interface"] == "GigabitEthernet0/0/24" and labels["ifIndex"] == "24"
    assert (labels["service"], labels["department"]) == ("network", "icu")
    # The port comes back: linkUp for the same ifIndex ends the alert and the incident.
    chain.snmp("snmptrap", "127.0.0.2", [*V3, "-e", ENGINE_ID], link(LINK_UP, 24, "GigabitEthernet0/0/24"))
    one_incident(chain, "acc-sw-icu-5f", status="resolved")
    assert chain.am_alerts("acc-sw-icu-5f") == []


def test_ed_switch_syslog_over_tcp_pages_and_the_up_line_over_udp_resolves(chain: Chain) -> None:
    before = chain.metric("hospmon_events_unmatched_total", source="syslog")
    # The ED access switch logs over TCP (RFC 5424, octet counting), as Huawei VRP does to a log server.
    down = "%%01IFPDT/4/IF_STATE(l)[12]:Interface GigabitEthernet0/0/7 has turned into DOWN state."
    logger(chain, "-T", "-P", str(chain.syslog_tcp), "--rfc5424", "--octet-count", "-t", "ACC-SW-ED-1F", down)
    incident = one_incident(chain, "acc-sw-ed-1f")
    assert incident["priority"] == "P1" and incident["team"] == owner("acc-sw-ed-1f")
    [alert] = chain.am_alerts("acc-sw-ed-1f")
    assert alert["labels"]["source"] == "syslog" and alert["labels"]["interface"] == "GigabitEthernet0/0/7"
    # A line no rule knows is counted, not alerted.
    logger(
        chain,
        "-d",
        "-P",
        str(chain.syslog_udp),
        "--rfc3164",
        "-t",
        "ACC-SW-ED-1F",
        "%%01SHELL/5/CMDRECORD: display version",
    )
    # Over UDP (RFC 3164), the port comes back up.
    up = "%%01IFPDT/4/IF_STATE(l)[13]:Interface GigabitEthernet0/0/7 has turned into UP state."
    logger(chain, "-d", "-P", str(chain.syslog_udp), "--rfc3164", "-t", "ACC-SW-ED-1F", up)
    one_incident(chain, "acc-sw-ed-1f", status="resolved")
    assert chain.metric("hospmon_events_unmatched_total", source="syslog") == before + 1
    assert chain.metric("hospmon_events_matched_total", source="syslog", rule="huawei_interface_down") >= 2


def test_ups_informs_are_acknowledged_on_battery_then_back_on_mains(chain: Chain) -> None:
    # snmpinform exits 0 only when the receiver acknowledged the inform.
    on_battery = [
        "",
        "1.3.6.1.2.1.33.2.1",
        "1.3.6.1.2.1.33.1.2.3.0",
        "i",
        "12",
        "1.3.6.1.2.1.33.1.2.2.0",
        "i",
        "30",
    ]
    chain.snmp("snmpinform", "127.0.0.3", V2C, on_battery)
    incident = one_incident(chain, "ups-mr1-01")
    assert incident["team"] == owner("ups-mr1-01")
    [alert] = chain.am_alerts("ups-mr1-01")
    assert alert["labels"]["alertname"] == "UPSOnBattery"
    assert alert["annotations"]["summary"] == "UPS ups-mr1-01 runs on battery: mains power is lost"
    assert alert["annotations"]["summary_zh"] == "UPS ups-mr1-01 正在电池供电\uff1a市电中断"
    # Mains is back: the UPS removes its on-battery alarm, this time as an SNMPv3 inform.
    removed = ["", "1.3.6.1.2.1.33.2.4", "1.3.6.1.2.1.33.1.6.2.1.2.1", "o", "1.3.6.1.2.1.33.1.6.3.2"]
    chain.snmp("snmpinform", "127.0.0.3", V3, removed)
    one_incident(chain, "ups-mr1-01", status="resolved")
    # An inform with a wrong community is refused, so it is never acknowledged, and counted.
    wrong = [require("snmpinform"), "--clientaddr=127.0.0.3", "-r", "0", "-t", "1", "-v", "2c", "-c", "guess"]
    refused = subprocess.run(
        [*wrong, f"127.0.0.1:{chain.trap_port}", *on_battery], capture_output=True, timeout=30
    )
    assert refused.returncode != 0
    assert chain.metric("hospmon_events_snmp_rejected_total", reason="bad_community") >= 1


def test_v1_trap_names_its_device_by_agent_address_and_unknown_senders_are_alerted_once(chain: Chain) -> None:
    # A v1 linkDown forwarded by the trap relay names the radiology switch (127.0.0.4) as its agent.
    v1 = ["-v", "1", "-c", COMMUNITY]
    chain.snmp(
        "snmptrap",
        TRAP_RELAY,
        v1,
        ["1.3.6.1.4.1.2011", "127.0.0.4", "2", "0", "", "1.3.6.1.2.1.2.2.1.1.9", "i", "9"],
    )
    [alert] = wait(lambda: chain.am_alerts("acc-sw-rad-1f"), "the radiology switch's alert")
    assert alert["labels"]["alertname"] == "NetworkLinkDown" and alert["labels"]["ifIndex"] == "9"
    # Three traps from a device no CI owns: one alert naming its address, three counted.
    before = chain.metric("hospmon_events_unknown_sender_total", source="trap")
    for port in (1, 2, 3):
        chain.snmp("snmptrap", "127.0.0.98", V2C, link(LINK_DOWN, port, f"Gi0/{port}"))
    wait(
        lambda: chain.metric("hospmon_events_unknown_sender_total", source="trap") == before + 3,
        "three counted",
    )

    def unknown() -> list[dict[str, Any]]:
        return [a for a in chain.am_alerts() if a["labels"].get("sender") == "127.0.0.98"]

    [alert] = wait(unknown, "the unknown-sender alert")
    assert alert["labels"]["alertname"] == "EventFromUnknownSender" and "ci" not in alert["labels"]
    time.sleep(0.5)  # a later flush must not add a second alert for the same sender
    assert len(unknown()) == 1


def test_alertmanager_down_events_wait_on_disk_and_arrive_in_order(chain: Chain) -> None:
    chain.stop_alertmanager()
    # The OR switch's port goes down and comes back, then the lab switch's port goes down, all while
    # Alertmanager is down. Delivered in order, the OR alert ends resolved and the lab alert open.
    chain.snmp("snmptrap", "127.0.0.7", V2C, link(LINK_DOWN, 3, "Gi1/0/3"))
    chain.snmp("snmptrap", "127.0.0.7", V2C, link(LINK_UP, 3, "Gi1/0/3"))
    chain.snmp("snmptrap", "127.0.0.8", V2C, link(LINK_DOWN, 5, "Gi1/0/5"))
    url = f"http://127.0.0.1:{chain.am_port}"
    # Both alerts, then the OR resolve (after its 3 s flap hold), wait on disk.
    wait(lambda: chain.metric("hospmon_events_queued_alerts", alertmanager=url) >= 3, "three alerts queued")
    assert chain.metric("hospmon_events_alertmanager_up", alertmanager=url) == 0
    chain.start_alertmanager()
    wait(lambda: chain.metric("hospmon_events_queued_alerts", alertmanager=url) == 0, "the queue drained")
    [lab] = wait(lambda: chain.am_alerts("acc-sw-lab-2f"), "the lab alert")
    assert lab["labels"]["ifIndex"] == "5"
    assert chain.am_alerts("acc-sw-or-3f") == []  # the resolve came after the fire: nothing left open
    received = requests.get(f"{url}/metrics", timeout=5).text
    assert 'alertmanager_alerts_received_total{status="resolved",version="v2"} 0' not in received
    one_incident(chain, "acc-sw-lab-2f")


def test_a_thousand_traps_from_one_flapping_port_make_one_alert_and_one_incident(chain: Chain) -> None:
    before = chain.metric("hospmon_events_received_total", source="trap")
    posts = chain.metric(
        "hospmon_events_alerts_delivered_total", alertmanager=f"http://127.0.0.1:{chain.am_port}"
    )
    # The inpatient aggregation switch's uplink flaps: 1,000 linkDown/linkUp traps as fast as it sends.
    burst = [link_trap(COMMUNITY, i, 12, up=bool(i % 2)) for i in range(1000)]
    send_all(burst, ("127.0.0.1", chain.trap_port), source="127.0.0.6")
    wait(
        lambda: chain.metric("hospmon_events_received_total", source="trap") >= before + 1000,
        "all 1000 decoded",
        60,
    )
    assert chain.metric("hospmon_events_dropped_total", source="trap", reason="backlog_full") == 0
    [alert] = wait(lambda: chain.am_alerts("agg-sw-inpatient"), "the flapping port's alert")
    assert int(alert["annotations"]["events"]) >= 1 and alert["labels"]["ifIndex"] == "12"
    incident = one_incident(chain, "agg-sw-inpatient")
    assert incident["team"] == owner("agg-sw-inpatient")
    # The burst ended on linkUp: after the flap hold the one alert resolves, and still only one incident.
    one_incident(chain, "agg-sw-inpatient", status="resolved")
    assert len(chain.incidents("agg-sw-inpatient")) == 1
    delivered = chain.metric(
        "hospmon_events_alerts_delivered_total", alertmanager=f"http://127.0.0.1:{chain.am_port}"
    )
    assert delivered - posts < 20, "Alertmanager heard of the flapping port a handful of times, not 1,000"


def test_newline_framed_tcp_syslog_maps_server_lines_and_never_copies_the_message(chain: Chain) -> None:
    # The HIS database server forwards kernel lines over TCP, newline framed (rsyslog's default), one of
    # them split across two writes. A line also carries a patient's name: it must not leave the receiver.
    lines = (
        b"<3>Jan 20 03:12:45 db-his-node1 kernel: md/raid1:md0: Disk failure on sdb1, disabling device.\n"
        b"<6>Jan 20 03:12:46 db-his-node1 his-app[812]: patient \xe5\xbc\xa0\xe4\xb8\x89 admitted to ward 5\n"
        b"<3>Jan 20 03:12:47 db-his-node1 kernel: Out of memory: Killed process 4121 (java) "
    )
    rest = "patient 张三 query\n".encode()
    with socket.create_connection(("127.0.0.1", chain.syslog_tcp), source_address=("127.0.0.9", 0)) as sock:
        sock.sendall(lines)
        time.sleep(0.2)
        sock.sendall(rest)
    alerts = wait(
        lambda: len(chain.am_alerts("db-his-node1")) == 2 and chain.am_alerts("db-his-node1"), "2 alerts"
    )
    names = sorted(a["labels"]["alertname"] for a in alerts)
    assert names == ["DiskFailed", "OutOfMemoryKill"]
    disk = next(a for a in alerts if a["labels"]["alertname"] == "DiskFailed")
    assert disk["labels"]["device"] == "md0/sdb1"
    everywhere = str(alerts) + requests.get(f"{chain.receiver.url}/metrics", timeout=5).text
    assert "张三" not in everywhere and "admitted" not in everywhere

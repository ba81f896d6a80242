"""Events through the hospital's relays. Syslog: a real rsyslogd forwards what servers and switches log, so
every line reaches the receiver from the relay's address, and the receiver trusts the relay's HOSTNAME to
name the CI. Traps: net-snmp's snmptrap sends from a trap forwarder's address (``snmp.relays``), whose v1
agent-addr or ``snmpTrapAddress.0`` names the device. A sender that is not a relay cannot name another CI."""

from __future__ import annotations

import contextlib
import errno
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporters.events.sources import SourceMap
from hospmon.inventory import load_inventory
from tests.events.conftest import (
    COMMUNITY,
    REPO,
    TRAP_RELAY,
    Chain,
    free_tcp_port,
    free_udp_port,
    receiver_config,
    start_receiver,
    wait,
)
from tests.router.servers import Process, start_alertmanager, wait_for
from tests.servers import require

INVENTORY = load_inventory(REPO / "demo" / "inventory")
RELAY = "127.0.0.1"  # where rsyslogd forwards from
UPS_ON_BATTERY = "1.3.6.1.2.1.33.2.1"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"

pytestmark = pytest.mark.slow


def _rsyslog_config(workdir: Path, port: int, chain_udp: int, chain_tcp: int) -> Path:
    """A relay as hospitals run it: UDP in, forwarded in the traditional format (RFC 3164) over UDP; TCP in,
    forwarded as RFC 5424 with octet counting over TCP. No DNS (the HOSTNAME of a device that sends none is
    its address), no local log sockets."""
    config = f"""\
global(workDirectory="{workdir}" net.enableDNS="off")
module(load="imudp")
module(load="imptcp")
input(type="imudp" address="127.0.0.1" port="{port}" ruleset="udp")
input(type="imptcp" address="127.0.0.1" port="{port}" ruleset="tcp")
ruleset(name="udp") {{ action(type="omfwd" target="127.0.0.1" port="{chain_udp}" protocol="udp") }}
ruleset(name="tcp") {{
  action(type="omfwd" target="127.0.0.1" port="{chain_tcp}" protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format")
}}
"""
    path = workdir / "rsyslog.conf"
    path.write_text(config)
    return path


def _bound(port: int) -> bool:
    """Tell whether something holds both the UDP and the TCP `port` on 127.0.0.1."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                continue
            return False
    return True


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Chain, int]]:
    """Alertmanager, the receiver trusting 127.0.0.1 as a relay, and rsyslogd relaying to it."""
    workdir = tmp_path_factory.mktemp("relay")
    (workdir / "token").write_text("unused\n")
    with contextlib.ExitStack() as stack:
        am, am_port = start_alertmanager(workdir, free_tcp_port(), workdir / "token")  # no router: AM only
        stack.callback(am.stop)
        config = receiver_config(workdir, am_port)
        config["syslog"]["relays"] = [f"{RELAY}/32"]
        path = workdir / "events.yml"
        path.write_text(yaml.safe_dump(config))
        receiver = start_receiver(path)
        stack.callback(receiver.stop)
        addresses = [config["snmp"]["listen"], config["syslog"]["udp"], config["syslog"]["tcp"]]
        chain = Chain(workdir, receiver, 0, am_port, am, *(int(a.rsplit(":", 1)[1]) for a in addresses))
        port = free_udp_port()
        conf = _rsyslog_config(workdir, port, chain.syslog_udp, chain.syslog_tcp)
        argv = [require("rsyslogd"), "-n", "-f", str(conf), "-i", str(workdir / "rsyslogd.pid")]
        rsyslogd = Process("rsyslogd", argv, workdir)
        stack.callback(rsyslogd.stop)
        wait_for(lambda: _bound(port), "rsyslogd's inputs", timeout=30, proc=rsyslogd.proc, log=rsyslogd.log)
        yield chain, port


def logger_as(hostname: str, port: int, *args: str) -> None:
    """Log one line with util-linux logger to the relay, from a host named `hostname` (a UTS namespace)."""
    argv = [require("unshare"), "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', hostname]
    argv += [require("logger"), "--server", "127.0.0.1", "--port", str(port), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr


def device_sends(line: str, port: int, source: str) -> None:
    """Send one line over UDP from a device's own loopback address, as a switch logs to its syslog host."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.sendto(line.encode(), ("127.0.0.1", port))


def alerts(chain: Chain, ci: str | None, alertname: str, **labels: str) -> list[dict[str, Any]]:
    """Return Alertmanager's alerts named `alertname` (of `ci` when given) carrying `labels`."""
    return [
        a
        for a in chain.am_alerts(ci)
        if a["labels"]["alertname"] == alertname and all(a["labels"].get(k) == v for k, v in labels.items())
    ]


def one_alert(chain: Chain, ci: str, alertname: str, source: str = "syslog", **want: str) -> dict[str, Any]:
    """Wait for the one alert of `ci` with `alertname` (and labels `want`) in Alertmanager; check its CI."""
    found: list[dict[str, Any]] = wait(lambda: alerts(chain, ci, alertname, **want), f"{alertname} {ci}")
    [alert] = found
    labels = alert["labels"]
    assert labels["service"] == INVENTORY.cis[ci].service
    assert labels["department"] == INVENTORY.department_of(ci)
    assert labels["source"] == source
    return alert


def v1_link_down(agent: str, if_index: int) -> list[str]:
    """Return snmptrap -v1 arguments: a linkDown of one port with `agent` in the agent-addr field."""
    return ["1.3.6.1.4.1.2011", agent, "2", "0", "", f"1.3.6.1.2.1.2.2.1.1.{if_index}", "i", str(if_index)]


def v2c_on_battery(claimed: str) -> list[str]:
    """Return snmptrap -v2c arguments: RFC 1628 upsTrapOnBattery carrying snmpTrapAddress.0 = `claimed`."""
    return [
        "", UPS_ON_BATTERY,
        "1.3.6.1.2.1.33.1.2.2.0", "i", "40", "1.3.6.1.2.1.33.1.2.3.0", "i", "25",
        SNMP_TRAP_ADDRESS, "a", claimed,
    ]  # fmt: skip


V1, V2C = ["-v", "1", "-c", COMMUNITY], ["-v", "2c", "-c", COMMUNITY]


def test_relayed_lines_page_the_device_they_name_not_the_relay(relay: tuple[Chain, int]) -> None:
    chain, port = relay
    # 03:12: the HIS database server's kernel fails a RAID member; its logger speaks RFC 5424 over TCP, with
    # its fully qualified name, to the relay, which forwards RFC 5424 with octet counting.
    logger_as(
        "db-his-node1.his.hospital.local", port, "--tcp", "--octet-count", "-t", "kernel", "-p", "kern.err",
        "md/raid1:md0: Disk failure on sdb1, disabling device.",
    )  # fmt: skip
    alert = one_alert(chain, "db-his-node1", "DiskFailed")
    assert alert["annotations"]["relay"] == RELAY
    # 03:13: the ICU access switch logs its sysname in capitals; the relay forwards RFC 3164 over UDP.
    device_sends(
        "<187>Jan 20 2026 03:13:45 ACC-SW-ICU-5F %%01IFPDT/4/IF_STATE(l)[12]:Interface GigabitEthernet0/0/24 "
        "has turned into DOWN state.", port, "127.0.0.2",
    )  # fmt: skip
    assert (
        one_alert(chain, "acc-sw-icu-5f", "NetworkLinkDown")["labels"]["interface"] == "GigabitEthernet0/0/24"
    )
    # 03:14: the radiology switch logs with no hostname at all: the relay names it by its address (127.0.0.4),
    # which the receiver's sources map.
    device_sends(
        "<187>57: *Mar  1 00:01:02.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/7, changed state to down",
        port, "127.0.0.4",
    )  # fmt: skip
    assert one_alert(chain, "acc-sw-rad-1f", "NetworkLinkDown")["labels"]["interface"] == "GigabitEthernet0/7"
    # The relay's own address maps to the ED switch (127.0.0.1 in sources): nothing was paged to it.
    assert chain.am_alerts("acc-sw-ed-1f") == []


def test_a_host_behind_the_relay_that_no_ci_names_is_one_unknown_sender_alert(
    relay: tuple[Chain, int],
) -> None:
    chain, port = relay
    before = chain.metric("hospmon_events_unknown_sender_total", source="syslog")
    # A new NAS nobody entered in the inventory logs three I/O errors through the relay.
    for sector in (10, 20, 30):
        logger_as(
            "nas-spare-7", port, "--udp", "--rfc3164", "-t", "kernel", "-p", "kern.err",
            f"blk_update_request: I/O error, dev sdc, sector {sector} op 0x0:(READ)",
        )  # fmt: skip
    wait(
        lambda: chain.metric("hospmon_events_unknown_sender_total", source="syslog") == before + 3,
        "three counted",
    )
    [alert] = wait(
        lambda: [a for a in chain.am_alerts() if a["labels"].get("sender") == "nas-spare-7"], "one alert"
    )
    assert alert["labels"]["alertname"] == "EventFromUnknownSender" and "ci" not in alert["labels"]
    assert alert["annotations"]["relay"] == RELAY
    assert "linux_disk_io_error" in alert["annotations"]["description"]


def test_a_device_that_is_not_a_relay_cannot_claim_another_ci(relay: tuple[Chain, int]) -> None:
    chain, _ = relay
    # The HIS database server (127.0.0.9) logs straight to the receiver with the OR switch's name in its
    # header: the alert is the database server's, found by its address.
    line = (
        "<3>Jan 20 03:15:45 acc-sw-or-3f kernel: Out of memory: Killed process 4121 (java) total-vm:8123456kB"
    )
    device_sends(line, chain.syslog_udp, "127.0.0.9")
    one_alert(chain, "db-his-node1", "OutOfMemoryKill")
    # An address no CI owns naming the UPS is an unknown sender by its address, not the UPS.
    device_sends(line.replace("acc-sw-or-3f", "ups-mr1-01"), chain.syslog_udp, "127.0.0.77")
    wait(
        lambda: [a for a in chain.am_alerts() if a["labels"].get("sender") == "127.0.0.77"], "unknown sender"
    )
    assert chain.am_alerts("acc-sw-or-3f") == [] and chain.am_alerts("ups-mr1-01") == []


def test_a_hostname_names_a_ci_by_id_before_an_address_and_a_shared_name_names_none(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "demo" / "inventory", inventory)
    (inventory / "99-named.yml").write_text(
        "cis:\n"
        '  - {id: pacs-web-2, kind: server, service: pacs, address: "db-his-node1.his.hospital.local"}\n'
        '  - {id: pacs-gw-a, kind: server, service: pacs, address: "https://pacs-gw.hospital.local/"}\n'
        '  - {id: pacs-gw-b, kind: server, service: pacs, address: "pacs-gw.radiology.hospital.local:443"}\n'
    )
    sources = SourceMap(load_inventory(inventory), [], {"syslog": [RELAY]})
    # A CI's own id wins over another CI's address with the same host name, whatever the case.
    assert sources.by_hostname("DB-HIS-NODE1") == "db-his-node1"
    # A full name is exact; its first label alone is shared by two CIs' addresses, so it names neither.
    assert sources.by_hostname("pacs-gw.hospital.local") == "pacs-gw-a"
    assert sources.by_hostname("PACS-GW") is None
    assert sources.by_hostname("x" * 256) is None and sources.by_hostname("") is None


def test_a_trap_names_the_ci_it_came_from_not_the_address_it_claims(
    relay: tuple[Chain, int], caplog: pytest.LogCaptureFixture
) -> None:
    chain, _ = relay
    before = chain.metric("hospmon_events_address_claims_ignored_total", source="trap")
    # 04:10: the HIS database server (127.0.0.9, no trap relay) sends two v1 linkDown traps whose agent-addr
    # says they are the ICU switch's (127.0.0.2): the network team's ICU pager stays quiet.
    for _ in range(2):
        chain.snmp("snmptrap", "127.0.0.9", V1, v1_link_down("127.0.0.2", 41))
    one_alert(chain, "db-his-node1", "NetworkLinkDown", "trap", ifIndex="41")
    assert alerts(chain, "acc-sw-icu-5f", "NetworkLinkDown", ifIndex="41") == []
    # 04:11: a ward printer nobody entered in the inventory (127.0.0.78) sends "UPS on battery" carrying the
    # machine-room UPS's address (127.0.0.3) in snmpTrapAddress.0: one unknown-sender alert by its source.
    chain.snmp("snmptrap", "127.0.0.78", V2C, v2c_on_battery("127.0.0.3"))
    [alert] = wait(
        lambda: alerts(chain, None, "EventFromUnknownSender", sender="127.0.0.78"), "unknown sender"
    )
    assert "ups_on_battery" in alert["annotations"]["description"]
    assert alerts(chain, "ups-mr1-01", "UPSOnBattery") == []
    assert chain.metric("hospmon_events_address_claims_ignored_total", source="trap") == before + 3
    # Each claiming source is logged once, with both addresses.
    logged = [r.getMessage() for r in caplog.records if "claim agent address" in r.getMessage()]
    assert len([m for m in logged if m.startswith("traps from 127.0.0.9 claim agent address 127.0.0.2")]) == 1
    assert (
        len([m for m in logged if m.startswith("traps from 127.0.0.78 claim agent address 127.0.0.3")]) == 1
    )


def test_a_trap_relay_forwards_for_the_device_whose_address_the_trap_carries(
    relay: tuple[Chain, int],
) -> None:
    chain, _ = relay
    before = chain.metric("hospmon_events_address_claims_ignored_total", source="trap")
    # The hospital's trap forwarder (TRAP_RELAY in snmp.relays) passes on a v1 linkDown of the ICU switch
    # (agent-addr 127.0.0.2) and the second UPS's "on battery" (snmpTrapAddress.0 127.0.0.5).
    chain.snmp("snmptrap", TRAP_RELAY, V1, v1_link_down("127.0.0.2", 42))
    link = one_alert(chain, "acc-sw-icu-5f", "NetworkLinkDown", "trap", ifIndex="42")
    assert link["annotations"]["relay"] == TRAP_RELAY and link["annotations"]["sender"] == "127.0.0.2"
    chain.snmp("snmptrap", TRAP_RELAY, V2C, v2c_on_battery("127.0.0.5"))
    assert one_alert(chain, "ups-mr1-02", "UPSOnBattery", "trap")["annotations"]["relay"] == TRAP_RELAY
    # A device behind the forwarder that no CI owns is an unknown sender by the address the trap carries.
    chain.snmp("snmptrap", TRAP_RELAY, V2C, v2c_on_battery("127.0.0.79"))
    [alert] = wait(
        lambda: alerts(chain, None, "EventFromUnknownSender", sender="127.0.0.79"), "unknown sender"
    )
    assert alert["annotations"]["relay"] == TRAP_RELAY
    assert alert["annotations"]["summary"].startswith(f"Traps for 127.0.0.79 (forwarded by {TRAP_RELAY})")
    assert chain.metric("hospmon_events_address_claims_ignored_total", source="trap") == before

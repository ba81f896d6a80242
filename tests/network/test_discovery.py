"""``hospmon discover`` in a wiring closet: five agents in a namespace of their own, scanned from inside it,
so no probe leaves it; and against real recordings and silent addresses on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from demo.servers.snmpd import snmpd
from exporters.core.probe import Deadline
from exporters.network.device import read_device
from exporters.network.discovery import Settings, addresses, discover, run_bounded
from exporters.network.exporter import NetworkExporter, open_session
from exporters.network.identify import load_vendors
from hospmon.inventory import load_inventory
from tests.network.lab import BOXES, SILENT_HOST, Closet, write_inventory

REPO = Path(__file__).resolve().parents[2]


def run_discover(
    lab: Closet, config: Path, out: Path, auth: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI inside the closet's namespace, where the /29 is the only route."""
    cmd = [sys.executable, "-m", "hospmon.cli", "discover", "--cidr", lab.cidr, "--auth", auth]
    return lab.run(*cmd, "--config", str(config), "--out", str(out), "--deadline", "2", *extra)


def proposed(out: Path) -> dict[str, dict[str, object]]:
    """Return the proposed CIs by id."""
    data = yaml.safe_load((out / "proposed-cis.yml").read_text(encoding="utf-8"))
    return {ci["id"]: ci for ci in data["cis"]}


@pytest.mark.parametrize("auth", ["public_v2", "hm_sha_aes"])
def test_five_agents_become_five_proposed_cis(
    closet_lab: Closet, lab_config: Path, tmp_path: Path, auth: str
) -> None:
    result = run_discover(closet_lab, lab_config, tmp_path / "out", auth)
    assert result.returncode == 0, result.stderr
    cis = proposed(tmp_path / "out")
    assert sorted(cis) == sorted(box.name for box in BOXES)
    vendors = {"core-sw-1": "Huawei", "agg-sw-1": "H3C", "acc-sw-1": "Ruijie", "fw-1": "Hillstone"}
    vendors["srv-his-1"] = (
        "Dell Inc."  # the maker ENTITY-MIB names wins over the agent's enterprise (Net-SNMP)
    )
    for box in BOXES:
        ci = cis[box.name]
        assert (ci["vendor"], ci["model"], ci["serial"]) == (vendors[box.name], box.model, box.serial)
        assert (ci["firmware"], ci["hardware"]) == (box.firmware, box.hardware)
        assert ci["address"] == f"{closet_lab.prefix}.{box.host}"
        assert ci["monitor"] == [
            {"exporter": "network", "modules": ["system", "if_mib", "lldp"], "auth": auth}
        ]
    assert cis["fw-1"]["kind"] == "firewall" and cis["srv-his-1"]["kind"] == "server"
    assert cis["core-sw-1"]["kind"] == "switch"
    observed = yaml.safe_load((tmp_path / "out" / "observed.yml").read_text(encoding="utf-8"))
    assert observed["silent"] == {f"{closet_lab.prefix}.{SILENT_HOST}": "timeout"}
    # the interface count is the agent's own ifNumber, read here with net-snmp's snmpget
    core = closet_lab.agents["core-sw-1"]
    count = closet_lab.run("snmpget", "-v2c", "-c", "public", "-Oqv", core.target, "1.3.6.1.2.1.2.1.0").stdout
    assert [d["interfaces"] for d in observed["devices"]] == [int(count)] * 5


def test_proposal_merges_into_an_inventory_as_it_is(
    closet_lab: Closet, lab_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_discover(closet_lab, lab_config, out, "public_v2").returncode == 0
    folder = write_inventory(tmp_path / "inv", "public_v2", cis=False)
    (folder / "50-proposed.yml").write_text((out / "proposed-cis.yml").read_text(encoding="utf-8"))
    inv = load_inventory(folder)
    assert inv.cis["srv-his-1"].model == "PowerEdge R740"


def test_known_devices_are_not_proposed_again(closet_lab: Closet, lab_config: Path, tmp_path: Path) -> None:
    folder = write_inventory(tmp_path / "inv", "public_v2")
    result = run_discover(closet_lab, lab_config, tmp_path / "out", "public_v2", "--inventory", str(folder))
    assert result.returncode == 0, result.stderr
    assert proposed(tmp_path / "out") == {}
    text = (tmp_path / "out" / "proposed-cis.yml").read_text(encoding="utf-8")
    # the inventory has no serials yet: the review comment says what the device reports
    assert "10.77.0.1 is core-sw-1: vendor: inventory '', device 'Huawei'" in text


def test_discovery_never_writes_into_the_inventory(lab_config: Path, tmp_path: Path) -> None:
    folder = write_inventory(tmp_path / "inv", "public_v2")
    before = sorted(p.name for p in folder.iterdir())
    cmd = [sys.executable, "-m", "hospmon.cli", "discover", "--cidr", "127.0.0.1/32", "--auth", "public_v2"]
    cmd += ["--config", str(lab_config), "--inventory", str(folder), "--out", str(folder / "found")]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 1
    assert "never writes the inventory" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_an_unknown_auth_or_a_huge_range_is_refused(lab_config: Path, tmp_path: Path) -> None:
    base = [
        sys.executable,
        "-m",
        "hospmon.cli",
        "discover",
        "--config",
        str(lab_config),
        "--out",
        str(tmp_path),
    ]
    bad_auth = subprocess.run(
        [*base, "--cidr", "127.0.0.1/32", "--auth", "nope"], capture_output=True, text=True
    )
    assert bad_auth.returncode == 2 and "unknown auth 'nope'" in bad_auth.stderr
    huge = subprocess.run(
        [*base, "--cidr", "10.0.0.0/8", "--auth", "public_v2"], capture_output=True, text=True
    )
    assert huge.returncode == 2 and "at most a /16" in huge.stderr
    outside = subprocess.run(
        [*base, "--cidr", "10.78.0.0/29", "--auth", "public_v2"], capture_output=True, text=True
    )
    assert (
        outside.returncode == 2
        and "10.78.0.0/29 is not inside the network exporter's adhoc_cidrs" in outside.stderr
    )
    assert not list(tmp_path.iterdir())


def test_a_silent_address_costs_one_deadline(lab_config: Path) -> None:
    """A host that swallows every request is given up at its deadline while its neighbour answers."""
    runtime = NetworkExporter().load_config(lab_config)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.19.0.2", 0))
        port = silent.getsockname()[1]
        with snmpd("127.19.0.1", port=port):
            started = time.monotonic()
            scan = discover(
                runtime, ["127.19.0.0/30"], "public_v2", load_vendors(), Settings(port=port, deadline=1.0)
            )
            elapsed = time.monotonic() - started
    assert [d.address for d in scan.devices] == ["127.19.0.1"]
    assert scan.silent == {"127.19.0.2": "timeout"}
    assert elapsed < 15, "a silent address must not hold the scan past its deadline"


def test_concurrency_and_rate_are_bounded() -> None:
    lock, running, peak, starts = __import__("threading").Lock(), [0], [0], []

    def work(_: str) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            starts.append(time.monotonic())
        time.sleep(0.05)  # the work itself: an address being asked
        with lock:
            running[0] -= 1

    began = time.monotonic()
    run_bounded([str(i) for i in range(30)], work, concurrency=3, rate=40.0)
    assert peak[0] <= 3 and len(starts) == 30
    # 30 starts at 40 per second cannot all be made in less than 29 gaps of 1/40 s (load only slows it)
    assert max(starts) - began >= 29 / 40


def test_ranges_expand_to_host_addresses() -> None:
    assert addresses(["10.1.0.0/30", "10.1.0.9"]) == ["10.1.0.1", "10.1.0.2", "10.1.0.9"]


def test_a_real_cisco_switch_recording(recorded: str, runtime: object) -> None:
    """The snmpsim recording of a Catalyst 3750 stack: ENTITY-MIB chassis and a CDP neighbour."""
    host, port = recorded.split(":")
    session = open_session(runtime, host, int(port), "cisco_16_switch", timeout=2, retries=1)  # type: ignore[arg-type]
    try:
        device = read_device(session, host, Deadline.after(20), load_vendors())
    finally:
        session.close()
    assert (device.vendor, device.model, device.serial) == ("Cisco", "WS-C3750-48PS-S", "CAT0952N20R")
    assert (device.hardware, device.firmware, device.interfaces) == ("V05", "12.2(55)SE10", 59)
    assert device.cdp and not device.lldp
    [neighbour] = device.neighbours
    assert (neighbour.sys_name, neighbour.port, neighbour.address) == (
        "C2960X.uac.local",
        "GigabitEthernet1/0/8",
        "10.204.88.10",
    )
    assert (neighbour.platform, neighbour.local_port) == ("cisco WS-C2960X-24PD-L", "Fa3/0/48")

"""A net-snmp snmpd in a private network namespace holding many veth interfaces (needs root).

Each extra UDP port the agent listens on is a distinct target to an exporter, so one snmpd stands in for a
fleet of switches with the same interface table.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.servers import process

V3_USER, V3_AUTH, V3_PRIV = "hm_sha_aes", "auth-pass-1", "priv-pass-1"


@dataclass
class Agent:
    """A running snmpd: its address in the namespace and the UDP ports it answers on."""

    host: str
    ports: list[int]

    def target(self, n: int = 0) -> str:
        """Return ``host:port`` of the `n`-th simulated device."""
        return f"{self.host}:{self.ports[n]}"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextlib.contextmanager
def namespace(pairs: int) -> Iterator[tuple[str, str]]:
    """Create a namespace with `pairs` veth pairs (every third down) and an uplink; yield (name, address)."""
    pid = os.getpid()
    name, host_if = f"hmbench{pid}", f"hmb{pid}"[:15]
    net = f"10.{250 - (pid >> 8) % 40}.{pid & 0xFC}"
    _ip("netns", "add", name)
    try:
        # no IPv6: router solicitations and MLD reports would move the counters the benches compare
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1"], check=True, capture_output=True)  # fmt: skip
        _ip("link", "add", host_if, "type", "veth", "peer", "name", "uplink0", "netns", name)
        _ip("addr", "add", f"{net}.1/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        batch = [f"addr add {net}.2/30 dev uplink0", "link set uplink0 up", "link set lo up"]
        for i in range(pairs):
            batch += [f"link add port{i}a type veth peer name port{i}b", f"link set port{i}a alias ward-{i}"]
            if i % 3:
                batch += [f"link set port{i}a up", f"link set port{i}b up"]
        with tempfile.NamedTemporaryFile("w", suffix=".ip") as f:
            f.write("\n".join(batch) + "\n")
            f.flush()
            _ip("-n", name, "-batch", f.name)
        yield name, f"{net}.2"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)


def _answers(host: str, port: int) -> bool:
    argv = ["snmpget", "-v2c", "-c", "public", "-t", "0.3", "-r", "0", f"{host}:{port}", "1.3.6.1.2.1.1.3.0"]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


@contextlib.contextmanager
def agent(pairs: int, devices: int = 1) -> Iterator[Agent]:
    """Run snmpd in a namespace with `pairs` veth pairs, answering on `devices` UDP ports."""
    with namespace(pairs) as (ns, host), tempfile.TemporaryDirectory(prefix="hm-bench-snmpd-") as tmp:
        conf = Path(tmp) / "snmpd.conf"
        conf.write_text(
            "rocommunity public default\nsysName hm-bench-agent\ndontLogTCPWrappersConnects yes\n"
            f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\nrouser {V3_USER} priv\n'
        )
        ports = [16100 + i for i in range(devices)]  # inside the namespace: nothing else binds there
        argv = ["ip", "netns", "exec", ns, "/usr/sbin/snmpd", "-f", "-C", "-c", str(conf), "-Lf",
                f"{tmp}/snmpd.log", "-p", f"{tmp}/pid", *(f"udp:{host}:{p}" for p in ports)]  # fmt: skip
        env = {"SNMP_PERSISTENT_DIR": tmp, "MIBS": ""}
        with process(argv, lambda: _answers(host, ports[-1]), Path(tmp) / "out.log", env=env):
            yield Agent(host, ports)

"""Start a real net-snmp ``snmpd``: on loopback, or in a network namespace with many veth interfaces.
Shared by the network tests, the SNMP benches and the demo's simulated devices (demo/parts/network.py)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.servers.process import MissingProgram

SNMPD = "/usr/sbin/snmpd"
V3_USERS = {
    # user: (level, auth protocol, auth password, priv protocol, priv password)
    "hm_sha_aes": ("priv", "SHA", "auth-pass-1", "AES", "priv-pass-1"),
    "hm_sha256_aes": ("priv", "SHA-256", "auth-pass-2", "AES", "priv-pass-2"),
    # Old switches: privacy protocols only pysnmp serves.
    "hm_sha_des": ("priv", "SHA", "auth-pass-4", "DES", "priv-pass-4"),
    "hm_sha_aes256": ("priv", "SHA", "auth-pass-5", "AES-256", "priv-pass-5"),
    "hm_auth": ("auth", "SHA", "auth-pass-3", None, None),
    "hm_noauth": ("noauth", None, None, None, None),
}


@dataclass
class Agent:
    """A running snmpd: where it listens and how to tear it down."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    netns: str | None = None

    @property
    def target(self) -> str:
        """Return ``host:port`` as a probe target."""
        return f"{self.host}:{self.port}"

    def cli(self, tool: str, *args: str, community: str = "public") -> str:
        """Run a net-snmp command-line tool against the agent (numeric output) and return its stdout."""
        cmd = [
            tool,
            "-v2c",
            "-c",
            community,
            "-On",
            "-Oe",
            "-Ot",
            "-Cr25" if tool == "snmpbulkwalk" else "-r1",
        ]
        cmd += [self.target, *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60).stdout


def free_udp_port(host: str = "127.0.0.1") -> int:
    """Return a UDP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _config(extra: list[str]) -> str:
    given = {line.split()[0].lower() for line in extra if line.strip()}
    identity = [
        "sysLocation 机房 A-3 (machine room A-3)",
        "sysContact noc@hospital.example",
        "sysName hm-lab-agent",
    ]
    lines = [
        *extra,
        "rocommunity public default",
        *(line for line in identity if line.split()[0].lower() not in given),
        "includeAllDisks 5%",
        "load 64 64 64",
        "dontLogTCPWrappersConnects yes",
    ]
    for user, (level, auth, apass, priv, ppass) in V3_USERS.items():
        create = f"createUser {user}"
        if auth:
            create += f' {auth} "{apass}"'
        if priv:
            create += f' {priv} "{ppass}"'
        lines += [create, f"rouser {user} {level}"]
    return "\n".join(lines) + "\n"


def answers(host: str, port: int, netns: str | None = None) -> bool:
    """Tell whether an agent answers a v2c GET of sysUpTime with the community ``public``."""
    cmd = ["snmpget", "-v2c", "-c", "public", "-t", "0.2", "-r", "0", f"{host}:{port}", "1.3.6.1.2.1.1.3.0"]
    if netns:  # ask from inside: the namespace's addresses may have no route from here
        cmd = ["ip", "netns", "exec", netns, *cmd]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def agent_argv(conf: Path, workdir: Path, addresses: list[str]) -> list[str]:
    """Return the command running snmpd in the foreground with `conf`, logging and its pid in `workdir`."""
    cmd = [
        SNMPD,
        "-f",
        "-C",
        "-c",
        str(conf),
        "-Lf",
        str(workdir / "snmpd.log"),
        "-p",
        str(workdir / "snmpd.pid"),
    ]
    # Listening addresses go on the command line: snmpd truncates long agentAddress lines in its config.
    return [*cmd, *addresses]


def require_net_snmp() -> None:
    """Raise `MissingProgram` unless snmpd and the snmp tools are installed."""
    if not Path(SNMPD).exists() or shutil.which("snmpget") is None:
        raise MissingProgram("net-snmp snmpd and snmp tools are required: apt-get install snmpd snmp")


def _wait_ready(
    host: str, port: int, proc: subprocess.Popen[bytes], netns: str | None, timeout: float
) -> None:
    """Poll the agent with snmpget until it answers (a readiness check, not a sleep)."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"snmpd exited with {proc.returncode}")
        if answers(host, port, netns):
            return
    raise RuntimeError(f"snmpd on {host}:{port} did not answer within {timeout} s")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@contextmanager
def netns_with_interfaces(pairs: int) -> Iterator[tuple[str, str]]:
    """Create a network namespace holding `pairs` veth pairs and an uplink; yield (name, agent address)."""
    pid = os.getpid()
    name = f"hmsnmp{pid}"
    host_if, ns_if = f"hmh{pid}"[:15], "uplink0"
    # A /30 of 10.192.0.0/10 per process: pytest's workers have neighbouring pids, and two namespaces sharing
    # a subnet would route one agent's probes into the other (refused there).
    index = pid % (1 << 20)
    net = f"10.{192 + (index >> 14)}.{(index >> 6) & 0xFF}.{(index & 0x3F) << 2}"
    host_addr, ns_addr = str(ipaddress.IPv4Address(net) + 1), str(ipaddress.IPv4Address(net) + 2)
    _ip("netns", "add", name)
    try:
        # No IPv6 in the namespace: router solicitations and MLD reports would move the counters we compare.
        for key in ("net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"):
            subprocess.run(
                ["ip", "netns", "exec", name, "sysctl", "-qw", f"{key}=1"], check=True, capture_output=True
            )
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", name)
        _ip("addr", "add", f"{host_addr}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        batch = [f"addr add {ns_addr}/30 dev {ns_if}", f"link set {ns_if} up", "link set lo up"]
        for i in range(pairs):
            batch += [f"link add port{i}a type veth peer name port{i}b"]
            batch += [f"link set port{i}a alias uplink-to-ward-{i}"]
            if i % 3:  # leave every third pair down, so oper status varies
                batch += [f"link set port{i}a up", f"link set port{i}b up"]
        with tempfile.NamedTemporaryFile("w", suffix=".ip", delete=False) as f:
            f.write("\n".join(batch) + "\n")
        try:
            _ip("-n", name, "-batch", f.name)
        finally:
            os.unlink(f.name)
        yield name, ns_addr
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)


@contextmanager
def snmpd(
    host: str = "127.0.0.1",
    netns: str | None = None,
    extra: list[str] | None = None,
    ready_timeout: float = 15.0,
    more_ports: list[int] | None = None,
    port: int | None = None,
) -> Iterator[Agent]:
    """Run snmpd bound to `host` (inside `netns` when given, also on `more_ports`) until the context ends."""
    require_net_snmp()
    workdir = Path(tempfile.mkdtemp(prefix="hm-snmpd-"))
    if port is None:
        port = free_udp_port(host) if netns is None else 16100 + os.getpid() % 1000
    conf = workdir / "snmpd.conf"
    conf.write_text(_config(extra or []), encoding="utf-8")
    cmd = agent_argv(conf, workdir, [f"udp:{host}:{p}" for p in [port, *(more_ports or [])]])
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(workdir), MIBS="")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(host, port, proc, netns, ready_timeout)
        yield Agent(host, port, proc, workdir, netns)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)

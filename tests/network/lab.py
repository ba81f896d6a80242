"""A wiring closet in a network namespace: five snmpd agents on their own addresses, each with a different
sysObjectID, an ENTITY-MIB chassis with a serial number, and LLDP neighbours.

net-snmp implements neither ENTITY-MIB's entPhysicalTable nor LLDP-MIB (lldpd does, as an AgentX subagent).
The tables are served by snmpd's own ``override`` lines, as `tests.network.simulated` already serves UPS and
sensor tables: static rows need no helper process (``pass_persist`` would add a script per agent), and, unlike
snmpsimd, which answers by community rather than by address, each agent answers on its own address with one
community, as five real devices in a closet would.

Wiring (LLDP as both ends see it) against what the test's inventory declares:

    core-sw-1 .1 -- agg-sw-1 .2      declared (agg-sw-1 depends_on core-sw-1)
    agg-sw-1  .2 -- acc-sw-1 .3      declared
    acc-sw-1  .3 -- srv-his-1 .5     declared
    agg-sw-1  .2 -- fw-1 .4          on the wire, NOT declared               (planted: undeclared link)
    fw-1 depends_on core-sw-1        declared, NOT on the wire               (planted: declared, absent)
    acc-sw-1 sees ward-ap-3f         a device not in the inventory
    old-sw-9  .6                     in the inventory, no agent answers
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from demo.servers.snmpd import Agent, snmpd

ENTITY = "1.3.6.1.2.1.47.1.1.1.1"
LLDP_LOC = "1.0.8802.1.1.2.1.3"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_MAN = "1.0.8802.1.1.2.1.4.2.1.3"


@dataclass
class Box:
    """One device in the closet and what it reports."""

    host: int
    name: str
    object_id: str
    model: str
    serial: str
    firmware: str
    hardware: str
    maker: str = ""
    ports: list[str] = field(default_factory=lambda: [f"GE1/0/{n}" for n in range(1, 5)])

    @property
    def mac(self) -> str:
        """Return the chassis MAC as snmpd's hex notation."""
        return f"0x0200000000{self.host:02x}"


BOXES = [
    Box(1, "core-sw-1", "1.3.6.1.4.1.2011.2.23.96", "S12708", "2102350DLS10J8000123", "V200R019C10", "VER.B"),
    Box(2, "agg-sw-1", "1.3.6.1.4.1.25506.1.2", "S7506E", "210235A0W5H17B000045", "7.1.070", "VER.C"),
    Box(
        3,
        "acc-sw-1",
        "1.3.6.1.4.1.4881.1.1.10.1.232",
        "S2910-24GT4XS-E",
        "G1MQ8ZT001234",
        "11.4(1)B12",
        "1.10",
    ),
    Box(4, "fw-1", "1.3.6.1.4.1.28557.1.33", "SG-6000-E3960", "0010271901000077", "5.5R8", "2.0"),
    Box(5, "srv-his-1", "1.3.6.1.4.1.8072.3.2.10", "PowerEdge R740", "5KX7YK2", "2.19.1", "A04", "Dell Inc."),
]
# (from host, from port, to host, to port): each link is written on both ends
LINKS = [(1, 1, 2, 1), (2, 2, 3, 1), (3, 2, 5, 1), (2, 3, 4, 1)]
STRANGER = (3, 4, "ward-ap-3f", "0x02aa00000003")  # acc-sw-1 port 4 sees an access point nobody recorded
SILENT_HOST = 6


def overrides(box: Box, net: str) -> list[str]:
    """Return the snmpd.conf lines that make an agent this box."""
    lines = [f"sysName {box.name}", f"sysObjectID {box.object_id}", f"sysDescr {box.model} {box.firmware}"]
    chassis = {2: f'"{box.model} chassis"', 5: "3", 7: '"Chassis"', 8: f'"{box.hardware}"'}
    chassis |= {9: f'"{box.firmware}"', 10: f'"{box.firmware}"', 11: f'"{box.serial}"', 12: f'"{box.maker}"'}
    chassis |= {13: f'"{box.model}"'}
    board = {2: '"Power supply 1"', 5: "6", 7: '"PSU1"', 11: f'"PSU{box.serial[-6:]}"', 13: '"PAC-600WA"'}
    for index, row in ((1, chassis), (2, board)):
        for col, value in row.items():
            kind = "integer" if col == 5 else "octet_str"
            lines.append(f"override {ENTITY}.{col}.{index} {kind} {value}")
    lines += [
        f"override {LLDP_LOC}.1.0 integer 4",
        f"override {LLDP_LOC}.2.0 octet_str {box.mac}",
        f"override {LLDP_LOC}.3.0 octet_str {box.name}",
    ]
    for n, port in enumerate(box.ports, 1):
        lines += [
            f"override {LLDP_LOC}.7.1.3.{n} octet_str {port}",
            f"override {LLDP_LOC}.7.1.4.{n} octet_str {port}",
        ]
    by_host = {b.host: b for b in BOXES}
    seen = [(lp, by_host[h].name, by_host[h].mac, rp, h) for a, lp, h, rp in LINKS if a == box.host]
    seen += [(rp, by_host[a].name, by_host[a].mac, lp, a) for a, lp, h, rp in LINKS if h == box.host]
    for local, name, mac, remote_port, host in seen:
        index = f"0.{local}.1"
        lines += [
            f"override {LLDP_REM}.4.{index} integer 4",
            f"override {LLDP_REM}.5.{index} octet_str {mac}",
            f"override {LLDP_REM}.6.{index} integer 5",
            f"override {LLDP_REM}.7.{index} octet_str GE1/0/{remote_port}",
            f"override {LLDP_REM}.9.{index} octet_str {name}",
            f"override {LLDP_MAN}.{index}.1.4.{net}.{host} integer 2",
        ]
    if box.host == STRANGER[0]:
        index = f"0.{STRANGER[1]}.1"
        lines += [
            f"override {LLDP_REM}.4.{index} integer 4",
            f"override {LLDP_REM}.5.{index} octet_str {STRANGER[3]}",
            f"override {LLDP_REM}.9.{index} octet_str {STRANGER[2]}",
        ]
    return lines


def neighbour_lines() -> list[str]:
    """Return agg-sw-1's LLDP rows and one CDP cache row, without its identity, for the shared lab agent."""
    lldp = [line for line in overrides(BOXES[1], "10.77.0") if line.startswith(f"override {LLDP_REM}")]
    cdp = "1.3.6.1.4.1.9.9.23.1.2.1.1"
    cells = {6: "ward-sw-2f", 7: "Gi0/1", 8: "WS-C2960", 4: "0x0a4d0002"}
    return [*lldp, *(f"override {cdp}.{col}.2.1 octet_str {value}" for col, value in cells.items())]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass
class Closet:
    """The namespace and its agents."""

    netns: str
    prefix: str
    """The first three octets, e.g. ``10.77.0``."""
    agents: dict[str, Agent]

    @property
    def cidr(self) -> str:
        """Return the closet's /29."""
        return f"{self.prefix}.0/29"

    def run(self, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace, where the only route is the closet's /29."""
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@contextmanager
def closet() -> Iterator[Closet]:
    """Start the five agents in a fresh namespace; the sixth address of the /29 is wired but silent."""
    name = f"hmcloset{os.getpid()}"
    prefix = "10.77.0"
    _ip("netns", "add", name)
    try:
        batch = [
            "link set lo up",
            "link add wire0 type veth peer name wire1",  # .6 is on the wire: asked, it stays silent
            *(f"addr add {prefix}.{box.host}/29 dev wire0" for box in BOXES),
            "link set wire0 up",
            "link set wire1 up",
        ]
        subprocess.run(
            ["ip", "-n", name, "-batch", "-"], input="\n".join(batch) + "\n", text=True, check=True
        )
        with ExitStack() as stack:
            agents = {
                box.name: stack.enter_context(
                    snmpd(f"{prefix}.{box.host}", netns=name, extra=overrides(box, prefix), port=161)
                )
                for box in BOXES
            }
            yield Closet(name, prefix, agents)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def write_inventory(
    folder: Path, auth: str, *, cis: bool = True, depends_on: dict[str, list[str]] | None = None
) -> Path:
    """Write the closet's inventory: the five devices, the silent old switch, and the declared links
    (`depends_on` replaces some)."""
    prefix = "10.77.0"
    depends = {"agg-sw-1": ["core-sw-1"], "acc-sw-1": ["agg-sw-1"], "srv-his-1": ["acc-sw-1"]}
    depends |= {"fw-1": ["core-sw-1"], "old-sw-9": ["core-sw-1"]} | (depends_on or {})
    kinds = {"fw-1": "firewall", "srv-his-1": "server"}
    hosts = {box.name: box.host for box in BOXES} | {"old-sw-9": SILENT_HOST}
    entries = [
        {
            "id": name,
            "kind": kinds.get(name, "switch"),
            "service": "network",
            "address": f"{prefix}.{host}",
            "depends_on": depends.get(name, []),
            "monitor": [{"exporter": "network", "modules": ["system", "lldp"], "auth": auth}],
        }
        for name, host in hosts.items()
    ]
    entries.append(
        {"id": "his-app", "kind": "application", "service": "network", "depends_on": ["srv-his-1"]}
    )
    data = {
        "hospital": {"id": "closet", "name": {"en": "Closet hospital"}},
        "departments": [{"id": "it", "name": {"en": "IT"}, "criticality": "high"}],
        "teams": [
            {"id": "net", "name": {"en": "Network"}, "members": [{"id": "wang", "name": {"en": "Wang"}}]}
        ],
        "services": [
            {"id": "network", "name": {"en": "Network"}, "tier": 1, "team": "net", "departments": ["it"]}
        ],
        "cis": entries if cis else [],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "00-closet.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder

"""Compare the links seen on the wire (LLDP/CDP, from discovery) with ``depends_on`` in the inventory.

The router groups alerts and weighs their impact along ``depends_on``; a link the inventory does not declare,
or declares where there is none, makes it page the wrong people or the wrong way. Drift comes in four kinds:

- ``undeclared``: two inventory CIs see each other on the wire, and neither depends on the other;
- ``absent``: a declared dependency between two CIs that both answered and both speak LLDP or CDP, which
  neither of them sees;
- unknown devices: on the wire (a neighbour, or an answering address) but in no CI;
- silent CIs: monitored by SNMP, their address was scanned, and they did not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hospmon.inventory.model import Inventory
from hospmon.inventory.observed import Observation, ObservedDevice, ObservedNeighbour

NETWORK_EXPORTER = "network"


@dataclass(frozen=True, order=True)
class Link:
    """An undirected link between two CIs, ends in sorted order, with what showed it."""

    a: str
    b: str
    evidence: str = field(default="", compare=False)


@dataclass
class Drift:
    """What differs between the wire and the inventory, and every link seen (for the picture)."""

    seen: list[Link]
    undeclared: list[Link]
    absent: list[Link]
    unknown: dict[str, str]
    """Device on the wire -> the CI (or address) that saw it."""
    silent: dict[str, str]
    """CI -> why it gave no answer."""
    checked: int
    """Declared links that could be checked (both ends answered and speak LLDP or CDP)."""

    @property
    def total(self) -> int:
        """Return how many findings there are."""
        return len(self.undeclared) + len(self.absent) + len(self.unknown) + len(self.silent)


def _short(name: str) -> str:
    return name.strip().lower().split(".")[0]


class _Matcher:
    """Finds the CI a device or neighbour is, by address, chassis id, sysName or name."""

    def __init__(self, inv: Inventory, observation: Observation) -> None:
        self.by_address: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for ci in inv.cis.values():
            for host in [ci.address or ""] + [(m.target or "").rsplit(":", 1)[0] for m in ci.monitor]:
                if host:
                    self.by_address.setdefault(host, ci.id)
            self.by_name.setdefault(ci.id, ci.id)
            if ci.name:
                for text in (ci.name.en, ci.name.zh):
                    if text:
                        self.by_name.setdefault(_short(text), ci.id)
        self.by_serial = {ci.serial: ci.id for ci in inv.cis.values() if ci.serial}
        self.by_chassis: dict[str, str] = {}
        for device in observation.devices:
            found = self.device(device)
            if found and device.chassis_id:
                self.by_chassis[device.chassis_id] = found

    def device(self, device: ObservedDevice) -> str | None:
        """Return the CI an answering device is."""
        return (
            self.by_address.get(device.address)
            or (self.by_serial.get(device.serial) if device.serial else None)
            or self.by_name.get(_short(device.sys_name))
        )

    def neighbour(self, n: ObservedNeighbour) -> str | None:
        """Return the CI a neighbour is."""
        return (
            (self.by_address.get(n.address) if n.address else None)
            or (self.by_chassis.get(n.chassis_id) if n.chassis_id else None)
            or (self.by_name.get(_short(n.sys_name)) if n.sys_name else None)
        )


def _pair(x: str, y: str, evidence: str) -> Link:
    a, b = sorted((x, y))
    return Link(a, b, evidence)


def compare(inv: Inventory, observation: Observation) -> Drift:
    """Return the drift between an observation and the inventory's declared dependencies."""
    match = _Matcher(inv, observation)
    answered: dict[str, ObservedDevice] = {}
    seen: dict[tuple[str, str], Link] = {}
    unknown: dict[str, str] = {}
    for device in observation.devices:
        found = match.device(device)
        if found is None:
            unknown.setdefault(device.sys_name or device.address, device.address)
            continue
        answered[found] = device
    for name, device in answered.items():
        for n in device.neighbours:
            peer = match.neighbour(n)
            if peer is None:
                unknown.setdefault(n.sys_name or n.chassis_id or n.address, name)
            elif peer != name:
                far = f" {n.port}" if n.port else ""
                link = _pair(name, peer, f"{name} {n.local_port} sees {peer}{far} ({n.protocol})")
                seen.setdefault((link.a, link.b), link)
    declared = {(lk.a, lk.b) for lk in (_pair(c.id, d, "") for c in inv.cis.values() for d in c.depends_on)}
    speaks = {ci for ci, d in answered.items() if d.lldp or d.cdp}
    checkable = sorted(p for p in declared if p[0] in speaks and p[1] in speaks)
    missing = [pair for pair in checkable if pair not in seen]
    absent = [Link(a, b, f"declared; neither {a} nor {b} sees the other") for a, b in missing]
    undeclared = [link for key, link in sorted(seen.items()) if key not in declared]
    silent = {}
    for ci in sorted(inv.cis.values(), key=lambda c: c.id):
        snmp = any(m.exporter == NETWORK_EXPORTER for m in ci.monitor)
        if snmp and ci.id not in answered and ci.address and observation.was_scanned(ci.address):
            silent[ci.id] = observation.silent.get(ci.address, "no answer")
    return Drift(
        seen=[seen[k] for k in sorted(seen)],
        undeclared=undeclared,
        absent=absent,
        unknown=dict(sorted(unknown.items())),
        silent=silent,
        checked=len(checkable),
    )


def report(drift: Drift, observation: Observation) -> str:
    """Return the drift as lines a network engineer reads."""
    lines = [
        f"Topology as observed at {observation.observed_at or 'an unknown time'} "
        f"({', '.join(observation.scanned) or 'nothing scanned'}): {len(drift.seen)} link(s) seen, "
        f"{drift.checked} declared link(s) checked, {drift.total} finding(s)."
    ]
    for title, links in (("Undeclared links (on the wire, not in depends_on)", drift.undeclared),
                         ("Declared links not seen on the wire", drift.absent)):  # fmt: skip
        lines.append(f"{title}: {len(links)}")
        lines += [f"  {link.a} -- {link.b}: {link.evidence}" for link in links]
    lines.append(f"Devices on the wire not in the inventory: {len(drift.unknown)}")
    lines += [f"  {device} (seen by {where})" for device, where in drift.unknown.items()]
    lines.append(f"Inventory devices not answering: {len(drift.silent)}")
    lines += [f"  {ci}: {why}" for ci, why in drift.silent.items()]
    return "\n".join(lines) + "\n"

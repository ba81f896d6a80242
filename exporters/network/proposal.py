"""Proposed inventory entries from a discovery run: YAML a person reviews, edits and merges by hand.

Each entry validates as a CI of ``inventory.yml``; what the schema has no key for (sysDescr, interface count,
sysObjectID) is written as a comment above it. Devices the inventory already holds (same address, serial or
sysName) are listed in a comment, with what differs, instead of being proposed twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from exporters.network.device import Device
from hospmon.inventory import Inventory

_NOT_ID = re.compile(r"[^a-z0-9._-]+")
MODULES = ["system", "if_mib"]


@dataclass(frozen=True)
class Proposal:
    """The new CIs and the devices matched to CIs already in the inventory."""

    new: list[tuple[Device, dict[str, object]]]
    known: list[tuple[Device, str, list[str]]]
    """(device, CI id, differences)."""


def ci_id(device: Device, taken: set[str]) -> str:
    """Return an inventory id for a device: its sysName made id-safe, else kind and address."""
    base = _NOT_ID.sub("-", device.sys_name.lower()).strip("-._")[:48]
    if not base:
        base = f"{device.kind or 'device'}-{device.address.replace('.', '-').replace(':', '-')}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def match(device: Device, inv: Inventory) -> str | None:
    """Return the id of the inventory CI that is this device, by address, serial or sysName."""
    for ci in inv.cis.values():
        hosts = {ci.address or ""} | {(m.target or "").rsplit(":", 1)[0] for m in ci.monitor}
        if device.address in hosts:
            return ci.id
    for ci in inv.cis.values():
        if device.serial and ci.serial == device.serial:
            return ci.id
    name = device.sys_name.lower().split(".")[0]
    return name if name in inv.cis else None


def _entry(device: Device, ident: str, service: str, auth: str) -> dict[str, object]:
    entry: dict[str, object] = {"id": ident}
    if device.sys_name:
        entry["name"] = {"en": device.sys_name}
    entry |= {"kind": device.kind or "switch", "service": service, "address": device.address}
    for key in ("vendor", "model", "serial", "location", "firmware", "hardware"):
        value = getattr(device, key)
        if value:
            entry[key] = value
    modules = MODULES + ["lldp"] * device.lldp + ["cdp"] * device.cdp
    entry["monitor"] = [{"exporter": "network", "modules": modules, "auth": auth}]
    return entry


def _differences(device: Device, inv: Inventory, ident: str) -> list[str]:
    ci = inv.cis[ident]
    out = []
    for key in ("vendor", "model", "serial", "firmware", "hardware"):
        seen, recorded = getattr(device, key), getattr(ci, key, "")
        if seen and seen != recorded:
            out.append(f"{key}: inventory {recorded!r}, device {seen!r}")
    if ci.address and ci.address != device.address:
        out.append(f"address: inventory {ci.address!r}, answered at {device.address!r}")
    return out


def propose(devices: list[Device], inv: Inventory | None, service: str, auth: str) -> Proposal:
    """Split devices into new CIs (as inventory entries) and ones the inventory already holds."""
    taken = set(inv.cis) if inv else set()
    new, known = [], []
    for device in devices:
        found = match(device, inv) if inv else None
        if found is not None and inv is not None:
            known.append((device, found, _differences(device, inv, found)))
        else:
            new.append((device, _entry(device, ci_id(device, taken), service, auth)))
    return Proposal(new, known)


def render(proposal: Proposal, header: str) -> str:
    """Return the proposal as a commented inventory file (``cis:`` only)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [
        "# Review every entry (service, department, owner, kind), then move it into the inventory.",
        "cis:",
    ]
    if not proposal.new:
        lines[-1] = "cis: []"
    for device, entry in proposal.new:
        facts = [f"sysObjectID {device.sys_object_id or '?'}"]
        if device.interfaces is not None:
            facts.append(f"{device.interfaces} interfaces")
        if device.software:
            facts.append(f"software {device.software}")
        lines.append(f"  # {device.address}: {', '.join(facts)}")
        if device.sys_descr:
            lines.append(f"  # sysDescr: {' '.join(device.sys_descr.split())[:200]}")
        body = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=110)
        lines.extend("  " + line for line in body.rstrip("\n").splitlines())
    if proposal.known:
        lines.append("# Already in the inventory:")
        for device, ident, diffs in proposal.known:
            lines.append(f"#   {device.address} is {ident}" + (": " + "; ".join(diffs) if diffs else ""))
    return "\n".join(lines) + "\n"

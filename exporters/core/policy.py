"""What an exporter may probe, and the PHI guard its label values pass: keys every exporter config shares.

Targets are allow-listed: a ``/probe`` for a target that is neither in the config's ``targets`` nor monitored
by this exporter in the ``inventory`` answers 400, so nobody can point the exporter, and the credentials it
holds, at a host of their choosing::

    inventory: /etc/hospmon/inventory          # CIs monitored by this exporter, with their modules and auth
    targets:                                   # and/or listed here
      - {target: "10.1.1.1", modules: [system, if_mib], auth: core_v3}
    allow_adhoc_targets: false                 # true: also IP addresses inside adhoc_cidrs, with any auth
    adhoc_cidrs: []
    phi: {record_prefixes: [MRN, ZY, MZ], allow_words: [门诊楼]}

A listed target may be probed only with the modules and the auth it is listed with: an auth (a community, a
database account, a bearer token) reaches only the targets it was configured for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Generic, TypeVar

import annotated_types as at

from exporters.core.probe import BadRequest
from hospmon.config import Check, Strict
from hospmon.phi import PhiGuard, PhiSettings, RefusalTally, inventory_words

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
P = TypeVar("P", bound="Policy")


def _network(value: object) -> object:
    if isinstance(value, str):
        try:
            return ipaddress.ip_network(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an IP network: {exc}") from None
    return value


Network = Annotated[IpNetwork, Check(_network, before=True)]


@dataclass(frozen=True, kw_only=True)
class AllowedTarget(Strict):
    """One target the exporter may probe, with the modules and the auth it may use there."""

    target: Annotated[str, at.MinLen(1)]
    modules: list[str] | None = None
    """Modules allowed on this target; all when not given."""
    auth: str | None = None
    """The ``auth`` request parameter allowed on this target (for exporters that take one)."""


@dataclass(frozen=True, kw_only=True)
class Policy(Strict):
    """Targets the exporter may probe and the PHI guard's site settings."""

    inventory: str | None = None
    """The inventory file or folder (relative to this config file): its CIs monitored by this exporter."""
    targets: list[AllowedTarget] = field(default_factory=list)
    allow_adhoc_targets: bool = False
    """Also probe IP addresses inside ``adhoc_cidrs`` that are not listed (with any configured auth)."""
    adhoc_cidrs: list[Network] = field(default_factory=list)
    phi: PhiSettings = field(default_factory=PhiSettings)

    def __post_init__(self) -> None:
        if self.allow_adhoc_targets and not self.adhoc_cidrs:
            raise ValueError(
                "allow_adhoc_targets needs adhoc_cidrs: list the networks ad hoc targets may be in, "
                "e.g. [10.20.0.0/16]"
            )


@dataclass(frozen=True)
class Grant:
    """Modules (None: any) and auth one listed target may be probed with."""

    modules: frozenset[str] | None
    auth: str | None


def _key(target: str) -> str:
    return target.strip().rstrip("/")


@dataclass
class Access:
    """What one loaded config lets the exporter probe, and the guard its label values pass."""

    grants: dict[str, list[Grant]] = field(default_factory=dict)
    adhoc_cidrs: tuple[IpNetwork, ...] = ()
    guard: PhiGuard = field(default_factory=PhiGuard)

    def listed(self, target: str) -> bool:
        """Tell whether `target` is listed in the config or the inventory."""
        return _key(target) in self.grants

    def check(self, target: str, modules: Sequence[str], auth: str | None, host: str | None = None) -> None:
        """Raise `BadRequest` unless `target` may be probed with `modules` and `auth`.

        `host` is the target's host (for the ad hoc check); None when the target has none (a URL path...).
        """
        grants = self.grants.get(_key(target))
        if grants:
            for module in modules:
                if not any((g.modules is None or module in g.modules) and g.auth == auth for g in grants):
                    with_auth = f" with auth {auth}" if auth else " without an auth parameter"
                    raise BadRequest(
                        f"target {target!r} is not configured for module {module}{with_auth}; "
                        "list it so in targets or in the inventory"
                    )
            return
        if not self.adhoc_cidrs:
            raise BadRequest(
                f"target {target!r} is not in this exporter's targets or inventory; add it there "
                "(or set allow_adhoc_targets with adhoc_cidrs)"
            )
        try:
            address = ipaddress.ip_address((host or "").strip("[]"))
        except ValueError:
            raise BadRequest(
                f"ad hoc target {target!r} must be an IP address inside adhoc_cidrs, not a name"
            ) from None
        if not any(address in net for net in self.adhoc_cidrs):
            raise BadRequest(f"ad hoc target {target!r} is outside adhoc_cidrs")


@dataclass(frozen=True)
class AccessList:
    """What `Access` is built from, read from the config and its inventory: plain data a child can return."""

    grants: dict[str, list[Grant]]
    adhoc_cidrs: tuple[IpNetwork, ...]
    phi: PhiSettings
    words: list[str]

    def access(self, tally: RefusalTally | None = None) -> Access:
        """Build the access, with its PHI guard counting refusals in `tally`."""
        guard = PhiGuard(self.phi, extra_words=self.words, tally=tally)
        return Access(self.grants, self.adhoc_cidrs, guard)


def read_access(policy: Policy, file: Path, exporter: str) -> AccessList:
    """Read the allow-list of `exporter` from the config and its inventory, with the guard's settings."""
    grants: dict[str, list[Grant]] = {}
    words: list[str] = []
    for entry in policy.targets:
        modules = frozenset(entry.modules) if entry.modules is not None else None
        grants.setdefault(_key(entry.target), []).append(Grant(modules, entry.auth))
    if policy.inventory is not None:
        from hospmon.inventory.model import load_inventory

        inventory = load_inventory(file.parent / policy.inventory)
        words = inventory_words(inventory)
        for ci in inventory.cis.values():
            for mon in ci.monitor:
                address = mon.target or ci.address
                if mon.exporter == exporter and address:
                    grants.setdefault(_key(address), []).append(Grant(frozenset(mon.modules), mon.auth))
    cidrs = tuple(policy.adhoc_cidrs) if policy.allow_adhoc_targets else ()
    return AccessList(grants, cidrs, policy.phi, words)


@dataclass(frozen=True)
class Checked(Generic[P]):
    """A validated config with its allow-list: what an exporter's `read_config` returns from a child."""

    config: P
    access: AccessList


def check_policy(config: P, file: Path, exporter: str) -> Checked[P]:
    """Return the config with the allow-list read from it and its inventory."""
    return Checked(config, read_access(config, file, exporter))


def load_access(policy: Policy, file: Path, exporter: str, tally: RefusalTally | None = None) -> Access:
    """Build the allow-list of `exporter` from the config and its inventory, and its PHI guard."""
    return read_access(policy, file, exporter).access(tally)

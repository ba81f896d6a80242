"""Who sent an event: a source address (or, through a trusted relay, the sender it names) mapped to a CI.

The inventory's `address` of each CI maps that host to the CI when no other CI shares the host (the demo's
simulated devices all live on 127.0.0.1, so there it maps nothing). The receiver config's `sources` add
addresses and networks a device sends from (a switch's loopback, a UPS card's own address); they win over
the inventory, and the most specific network wins among them.

Syslog from a trusted relay (`syslog.relays`: a central rsyslog or syslog-ng) comes from the relay's address
for every device behind it, so its CI is the one its HOSTNAME names: a CI id, the host name of a CI's
address, or an address mapped as above. A trap from a trusted trap relay (`snmp.relays`: snmptrapd or an
NMS forwarding, a proxy) maps by the address it carries (a v1 agent-addr, ``snmpTrapAddress.0``). Any other
sender's HOSTNAME or claimed address is never read for this: a device could claim to be another CI.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from hospmon.inventory import Inventory

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
CACHE_LIMIT = 4096
MAX_HOSTNAME = 255  # RFC 5424 6.2.4


def _host_text(address: str) -> str:
    text = address.strip()
    if "://" in text:
        return urlsplit(text).hostname or ""
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else ""
    return text.split(":")[0] if text.count(":") == 1 else text


def _ip(text: str) -> IP | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def host_of(address: str) -> str | None:
    """Return the IP literal of an inventory address (``10.0.0.1:161``, ``[::1]:161``, a URL), or None."""
    ip = _ip(_host_text(address))
    return None if ip is None else str(ip)


def same_host(one: str, other: str) -> bool:
    """Tell whether two addresses are one host (``::ffff:10.0.0.1`` is ``10.0.0.1``)."""
    return (host_of(one) or one) == (host_of(other) or other)


def name_of(address: str) -> str | None:
    """Return the DNS name of an inventory address (``pacs-1.hospital.local:443``, a URL) in lower case."""
    text = _host_text(address).lower().rstrip(".")
    return text if text and _ip(text) is None else None


class SourceMap:
    """Find the CI behind an address, from the config's networks first and then the inventory."""

    def __init__(
        self,
        inventory: Inventory,
        sources: Iterable[tuple[str, str]],
        relays: Mapping[str, Iterable[str]] | None = None,
        resolved: Mapping[str, list[str]] | None = None,
    ) -> None:
        """Map `sources` (network, CI), the inventory's addresses and, for addresses given as names, the
        addresses `resolved` gives them; `relays` are the trusted relays' networks by source kind."""
        self.networks: list[tuple[Network, str]] = sorted(
            ((ipaddress.ip_network(net, strict=False), ci) for net, ci in sources),
            key=lambda pair: -pair[0].prefixlen,
        )
        self.relays = {
            kind: [ipaddress.ip_network(net, strict=False) for net in nets]
            for kind, nets in (relays or {}).items()
        }
        hosts: dict[str, list[str]] = {}
        named: dict[str, list[str]] = {}
        short: dict[str, list[str]] = {}
        for ci in inventory.cis.values():
            host = host_of(ci.address) if ci.address else None
            if host is not None:
                hosts.setdefault(host, []).append(ci.id)
            name = name_of(ci.address) if ci.address else None
            if name is not None:
                named.setdefault(name, []).append(ci.id)
                for ip in (resolved or {}).get(name, []):
                    hosts.setdefault(host_of(ip) or ip, []).append(ci.id)
                short.setdefault(name.split(".", 1)[0], []).append(ci.id)
        self.hosts = {h: cis[0] for h, cis in hosts.items() if len(cis) == 1}
        self.shared = {h: cis for h, cis in hosts.items() if len(cis) > 1}
        """Hosts several CIs share: events from them need a `sources` entry to find their CI."""
        # Host names a relayed HOSTNAME may give, lower case: a CI's id wins over an address's full name,
        # which wins over an address's first label; a name two CIs' addresses share maps neither.
        self.names = {n: cis[0] for table in (short, named) for n, cis in table.items() if len(cis) == 1}
        self.names.update((ci_id.lower(), ci_id) for ci_id in inventory.cis)
        self._cache: dict[str, str | None] = {}

    def lookup(self, address: str) -> str | None:
        """Return the CI id an address belongs to, or None for an unknown sender."""
        if address in self._cache:
            return self._cache[address]
        found = self._find(address)
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[address] = found
        return found

    def is_relay(self, address: str, source: str) -> bool:
        """Tell whether an address is a trusted relay's for `source` events (``syslog``, ``trap``)."""
        relays = self.relays.get(source)
        ip = _ip(address) if relays else None
        return ip is not None and any(ip.version == net.version and ip in net for net in relays or ())

    def by_hostname(self, hostname: str) -> str | None:
        """Return the CI a relayed message's HOSTNAME names (its id or address, any case), or None."""
        if not hostname or len(hostname) > MAX_HOSTNAME:
            return None
        if _ip(hostname) is not None:  # a relay fills in the address of a device that sent no HOSTNAME
            return self.lookup(hostname)
        name = hostname.lower().rstrip(".")
        # A device may log its fully qualified name where the inventory has its short one.
        return self.names.get(name) or self.names.get(name.split(".", 1)[0])

    def _find(self, address: str) -> str | None:
        ip = _ip(address)
        if ip is None:
            return None
        for network, ci in self.networks:
            if ip.version == network.version and ip in network:
                return ci
        return self.hosts.get(str(ip))


@dataclass(frozen=True)
class Sender:
    """Who sent an event: its address (or, through a relay, the HOSTNAME or address the relay gives), the
    CI found, the relay, and the kind of event (``trap`` relays give addresses, ``syslog`` relays names)."""

    name: str
    ci: str | None
    relay: str = ""
    source: str = "syslog"

    @property
    def by_address(self) -> bool:
        """Tell whether `name` is an address (not a relayed HOSTNAME)."""
        return not self.relay or self.source == "trap"

    def describe(self) -> str:
        """Return who sent it, for the log."""
        if not self.relay:
            return self.name
        return (
            f"{self.name} forwarded by {self.relay}"
            if self.by_address
            else f"host {self.name!r} relayed by {self.relay}"
        )

    def summary(self, name: str) -> str:
        """Return the unknown-sender alert's summary, with `name` as the PHI guard let it through."""
        if not self.relay:
            return f"Events from {name}, an address no inventory CI owns"
        if self.by_address:
            return f"Traps for {name} (forwarded by {self.relay}), an address no inventory CI owns"
        if self.name == self.relay:
            return f"Syslog relayed by {self.relay} without a HOSTNAME"
        return f"Syslog from host {name} (relayed by {self.relay}), which no inventory CI is named"

    def why(self, name: str) -> str:
        """Return why the event has no CI."""
        if self.by_address:
            where = (
                f"The trap relay {self.relay} forwards traps for"
                if self.relay
                else f"{self.source} events arrive from"
            )
            return (
                f"{where} {name}, which is neither a CI's address in the inventory nor in the event "
                "receiver's sources."
            )
        if self.name == self.relay:
            return f"The relay {self.relay} forwards messages whose header gives no HOSTNAME to map."
        return (
            f"The relay {self.relay} forwards messages whose HOSTNAME is {name}, which is neither a CI's id "
            "nor the name or address of a CI in the inventory (any case, a domain suffix dropped)."
        )

    @property
    def fix(self) -> str:
        """Return what the operator does about it."""
        if self.by_address:
            return "They cannot be routed to an owner until it is added to the inventory or sources"
        return (
            "They cannot be routed to an owner until the device's hostname (sysname) is set to its CI id, or "
            "its name or address is added to the inventory"
        )

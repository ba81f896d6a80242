"""Who sent an event: a source address (or a trap's agent address) mapped to an inventory CI.

The inventory's `address` of each CI maps that host to the CI when no other CI shares the host (the demo's
simulated devices all live on 127.0.0.1, so there it maps nothing). The receiver config's `sources` add
addresses and networks a device sends from (a switch's loopback, a UPS card's own address); they win over
the inventory, and the most specific network wins among them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from hospmon.inventory import Inventory

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
CACHE_LIMIT = 4096


def host_of(address: str) -> str | None:
    """Return the IP literal of an inventory address (``10.0.0.1:161``, ``[::1]:161``, a URL), or None."""
    text = address.strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    elif text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class SourceMap:
    """Find the CI behind an address, from the config's networks first and then the inventory."""

    def __init__(self, inventory: Inventory, sources: Iterable[tuple[str, str]]) -> None:
        self.networks: list[tuple[Network, str]] = sorted(
            ((ipaddress.ip_network(net, strict=False), ci) for net, ci in sources),
            key=lambda pair: -pair[0].prefixlen,
        )
        hosts: dict[str, list[str]] = {}
        for ci in inventory.cis.values():
            host = host_of(ci.address) if ci.address else None
            if host is not None:
                hosts.setdefault(host, []).append(ci.id)
        self.hosts = {h: cis[0] for h, cis in hosts.items() if len(cis) == 1}
        self.shared = {h: cis for h, cis in hosts.items() if len(cis) > 1}
        """Hosts several CIs share: events from them need a `sources` entry to find their CI."""
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

    def _find(self, address: str) -> str | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        for network, ci in self.networks:
            if ip.version == network.version and ip in network:
                return ci
        return self.hosts.get(str(ip))

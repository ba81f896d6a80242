"""Recordings built from vendors' MIB structure (APC, Eaton, printers, firewalls, FC switches, storage),
each served by snmpsimd under its name as community. `BUILT` maps a name to the function writing it."""

from __future__ import annotations

from collections.abc import Callable

from tests.network.devices import estate
from tests.network.snmprec import Snmprec


def sysobjectid_only() -> str:
    """Return an agent that answers sysObjectID and nothing else (seen on UPS cards and KVM switches)."""
    return Snmprec().add("1.3.6.1.2.1.1.2.0", "oid", "1.3.6.1.4.1.318.1.3.27").text()


BUILT: dict[str, Callable[[], str]] = {
    "sysobjectid-only": sysobjectid_only,
    "apc-ups": estate.apc_ups,
    "eaton-ups": estate.eaton_ups,
    "ward-printer": estate.ward_printer,
    "fortigate": estate.fortigate,
    "hillstone": estate.hillstone,
    "sangfor": estate.sangfor,
    "brocade-fc": estate.brocade,
    "netapp": estate.netapp,
}

"""The fast path for SNMPv2c traps: the network exporter's BER codec instead of pysnmp.

Most of pysnmp's time per trap goes to pyasn1's decoder; `bench/events_vs_snmptrapd.py` measures both paths
against snmptrapd (docs/events.md quotes its figures: the fast path is about three times faster end to end).
A v2c SNMPv2-Trap PDU whose community is one we know takes this path; anything else (v1 traps, informs,
which need an answer, SNMPv3, an unknown community, a message our codec refuses) goes to pysnmp, which also
counts what it rejects. With ``snmp.decoder: pysnmp`` every message goes to pysnmp.
`tests/events/test_fastpath.py` holds both paths to the same result.
"""

from __future__ import annotations

import hmac

from exporters.events.trap import Trap, build_trap, render
from exporters.network.ber import V2C, DecodeError, decode_message

TRAP_V2 = 0xA7


class FastTraps:
    """Decode v2c traps carrying one of `communities`; return None for everything pysnmp must see."""

    def __init__(self, communities: list[str]) -> None:
        self.communities = [c.encode() for c in communities]

    def decode(self, data: bytes, sender: str) -> Trap | None:
        """Return the trap in `data`, or None when it is not a v2c trap we may take."""
        if data[:1] != b"\x30":
            return None
        try:
            version, community, pdu_type, pdu = decode_message(data)
        except DecodeError:
            return None
        if version != V2C or pdu_type != TRAP_V2 or not self._known(community):
            return None
        return build_trap(sender, [(oid, render(tag, value)) for oid, tag, value in pdu.varbinds])

    def _known(self, community: bytes) -> bool:
        # Compare with every community, always: the time taken says nothing about which one nearly matched.
        found = False
        for known in self.communities:
            found |= hmac.compare_digest(community, known)
        return found

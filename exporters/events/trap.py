"""A notification as the rules see it, and its values as text, whichever decoder read it."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from pyasn1.type import univ
from pysnmp.proto import rfc1902

from exporters.events.syslog import decode
from exporters.network.ber import IP_ADDRESS, OBJECT_IDENTIFIER, OCTET_STRING, OPAQUE, Oid, Value, format_oid

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAP_ADDRESS = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)


@dataclass(frozen=True)
class Trap:
    """One notification as the rules see it."""

    sender: str
    agent: str | None
    trap_oid: str
    varbinds: list[tuple[Oid, str]]


def build_trap(sender: str, varbinds: list[tuple[Oid, str]]) -> Trap | None:
    """Return the trap these rendered varbinds make (None without ``snmpTrapOID.0``)."""
    found = dict(varbinds)
    trap_oid, agent = found.get(SNMP_TRAP_OID), found.get(SNMP_TRAP_ADDRESS)
    if trap_oid is None:
        return None
    return Trap(sender, agent if agent not in (None, "0.0.0.0") else None, trap_oid, varbinds)


def render_value(value: Any) -> str:
    """Return a varbind value as text: numbers, dotted OIDs and addresses, strings as text or hex."""
    if value.tagSet == rfc1902.IpAddress.tagSet:  # v1 and v2 carry different classes with one tag
        return socket.inet_ntoa(bytes(value)) if len(bytes(value)) == 4 else bytes(value).hex()
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(map(str, value))
    if isinstance(value, univ.OctetString):
        return render_text(bytes(value))
    if isinstance(value, univ.Integer):  # also Counter32/64, Gauge32, TimeTicks, Unsigned32
        return str(int(value))
    return ""


def render_text(raw: bytes) -> str:
    """Return an OCTET STRING as text (UTF-8 or GB18030) when it reads as text, else as 0x-prefixed hex."""
    text = decode(raw).rstrip("\x00")
    if all(c.isprintable() or c in "\t\r\n" for c in text):
        return text
    return "0x" + raw.hex()


def render(tag: int, value: Value) -> str:
    """Return a value our BER codec decoded as text, exactly as `render_value` does for pysnmp's."""
    if value is None:
        return ""
    if tag == IP_ADDRESS and isinstance(value, bytes):
        return socket.inet_ntoa(value) if len(value) == 4 else value.hex()
    if tag in (OCTET_STRING, OPAQUE) and isinstance(value, bytes):
        return render_text(value)
    if tag == OBJECT_IDENTIFIER and isinstance(value, tuple):
        return format_oid(value)
    return str(value)

"""Neighbours on the wire from LLDP-MIB (IEEE 802.1AB) and CISCO-CDP-MIB tables, already walked.

Tables come as ``{column root: {row index: value}}``; the roots are those `exporters.network.device` walks.
"""

from __future__ import annotations

import ipaddress

from exporters.network.ber import Oid, Value
from exporters.network.render import display_string
from hospmon.inventory.observed import ObservedNeighbour

LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_LOC_PORT = "1.0.8802.1.1.2.1.3.7.1"
LLDP_MAN_ADDR = "1.0.8802.1.1.2.1.4.2.1.3"
CDP_CACHE = "1.3.6.1.4.1.9.9.23.1.2.1.1"
MAC_ADDRESS, NETWORK_ADDRESS = 4, 5  # LldpChassisIdSubtype
PORT_MAC_ADDRESS, PORT_NETWORK_ADDRESS = 3, 4  # LldpPortIdSubtype
IPV4_FAMILY, IPV6_FAMILY = 1, 2  # IANA address family numbers


Neighbour = ObservedNeighbour


def _printable(raw: bytes) -> str:
    return display_string(raw) if all(32 <= b < 127 or b >= 128 for b in raw.rstrip(b"\x00")) else ""


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _address(raw: bytes) -> str:
    """Render an LLDP network address: an IANA family octet, then the address."""
    if raw and raw[0] == IPV4_FAMILY and len(raw) == 5:
        return str(ipaddress.IPv4Address(raw[1:]))
    if raw and raw[0] == IPV6_FAMILY and len(raw) == 17:
        return str(ipaddress.IPv6Address(raw[1:]))
    return raw.hex()


def chassis_text(subtype: int, value: Value) -> str:
    """Render an LLDP chassis id by its subtype: a MAC, an address, else the text (or hex)."""
    if not isinstance(value, bytes):
        return ""
    if subtype == MAC_ADDRESS and len(value) == 6:
        return _mac(value)
    if subtype == NETWORK_ADDRESS:
        return _address(value)
    return _printable(value) or _mac(value)


def port_text(subtype: int, value: Value) -> str:
    """Render an LLDP port id by its subtype."""
    if not isinstance(value, bytes):
        return ""
    if subtype == PORT_MAC_ADDRESS and len(value) == 6:
        return _mac(value)
    if subtype == PORT_NETWORK_ADDRESS:
        return _address(value)
    return _printable(value) or _mac(value)


def _str(value: Value) -> str:
    return display_string(value).strip() if isinstance(value, bytes) else ""


def _int(value: Value) -> int:
    return value if isinstance(value, int) else 0


def _man_addresses(rows: dict[Oid, Value]) -> dict[Oid, str]:
    """Return the first management address of each remote, keyed by (timeMark, localPort, remIndex)."""
    out: dict[Oid, str] = {}
    for index in rows:
        if len(index) < 5:
            continue
        key, family, length, addr = index[:3], index[3], index[4], index[5:]
        if len(addr) != length or any(b > 255 for b in addr):
            continue
        raw = bytes(addr)
        text = ""
        if family == IPV4_FAMILY and length == 4:
            text = str(ipaddress.IPv4Address(raw))
        elif family == IPV6_FAMILY and length == 16:
            text = str(ipaddress.IPv6Address(raw))
        if text:
            out.setdefault(key, text)
    return out


def lldp_neighbours(tables: dict[str, dict[Oid, Value]]) -> list[Neighbour]:
    """Return the neighbours in lldpRemTable, with the local port named by lldpLocPortTable."""
    col = {n: tables.get(f"{LLDP_REM}.{n}", {}) for n in (4, 5, 6, 7, 8, 9)}
    local_desc = tables.get(f"{LLDP_LOC_PORT}.4", {})
    local_id = tables.get(f"{LLDP_LOC_PORT}.3", {})
    addresses = _man_addresses(tables.get(LLDP_MAN_ADDR, {}))
    found = []
    for index in sorted(set(col[5]) | set(col[9])):
        if len(index) != 3:
            continue
        port_num = index[1:2]
        local = _str(local_desc.get(port_num)) or _str(local_id.get(port_num)) or str(index[1])
        found.append(
            Neighbour(
                protocol="lldp",
                local_port=local,
                sys_name=_str(col[9].get(index)),
                chassis_id=chassis_text(_int(col[4].get(index)), col[5].get(index)),
                port=_str(col[8].get(index)) or port_text(_int(col[6].get(index)), col[7].get(index)),
                address=addresses.get(index, ""),
            )
        )
    return found


def cdp_neighbours(tables: dict[str, dict[Oid, Value]], if_names: dict[int, str]) -> list[Neighbour]:
    """Return the neighbours in cdpCacheTable (index ifIndex.deviceIndex), local ports named by ifName."""
    col = {n: tables.get(f"{CDP_CACHE}.{n}", {}) for n in (4, 6, 7, 8)}
    found = []
    for index in sorted(col[6]):
        if len(index) != 2:
            continue
        raw = col[4].get(index)
        address = str(ipaddress.IPv4Address(raw)) if isinstance(raw, bytes) and len(raw) == 4 else ""
        found.append(
            Neighbour(
                protocol="cdp",
                local_port=if_names.get(index[0]) or str(index[0]),
                sys_name=_str(col[6].get(index)),
                port=_str(col[7].get(index)),
                address=address,
                platform=_str(col[8].get(index)),
            )
        )
    return found

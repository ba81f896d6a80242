"""Simulated devices' SNMPv2c traps, encoded by pysnmp and sent from a chosen address (event tests, bench)."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence

from pyasn1.codec.ber import encoder
from pysnmp.proto.api import v2c

LINK_DOWN = (1, 3, 6, 1, 6, 3, 1, 1, 5, 3)
LINK_UP = (1, 3, 6, 1, 6, 3, 1, 1, 5, 4)
IF_INDEX = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1)
IF_ADMIN = (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
IF_OPER = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)


def v2c_trap(
    community: str, request_id: int, trap: Sequence[int], varbinds: Iterable[tuple[tuple[int, ...], object]]
) -> bytes:
    """Return one encoded SNMPv2c trap message."""
    pdu = v2c.SNMPv2TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    binds = [
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.TimeTicks(request_id)),
        ((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), v2c.ObjectIdentifier(trap)),
    ]
    v2c.apiPDU.set_varbinds(pdu, [*binds, *varbinds])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def link_trap(community: str, request_id: int, if_index: int, *, up: bool) -> bytes:
    """Return a linkUp or linkDown trap for one port, as a switch sends it."""
    status = 1 if up else 2
    return v2c_trap(
        community,
        request_id,
        LINK_UP if up else LINK_DOWN,
        [
            ((*IF_INDEX, if_index), v2c.Integer(if_index)),
            ((*IF_ADMIN, if_index), v2c.Integer(1)),
            ((*IF_OPER, if_index), v2c.Integer(status)),
            ((*IF_NAME, if_index), v2c.OctetString(f"GigabitEthernet1/0/{if_index}")),
        ],
    )


def send_all(messages: Iterable[bytes], target: tuple[str, int], source: str = "127.0.0.1") -> int:
    """Send datagrams as fast as the socket takes them, from `source`; return how many were sent."""
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sock.bind((source, 0))
        for message in messages:
            sock.sendto(message, target)
            sent += 1
    return sent

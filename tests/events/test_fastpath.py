"""The v2c fast path and pysnmp read every trap alike, and the fast path leaves pysnmp what it must see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pysnmp.proto.api import v2c

from demo.senders import link_trap, v2c_trap
from exporters.events.config import SnmpSettings
from exporters.events.fastpath import FastTraps
from exporters.events.snmp import SnmpListener
from exporters.events.trap import Trap

COMMUNITY = "lab-community"
UPS_ON_BATTERY = (1, 3, 6, 1, 2, 1, 33, 2, 1)
VALUES = [
    v2c.Integer(-17),
    v2c.Integer(2**31 - 1),
    v2c.Counter32(4_000_000_000),
    v2c.Counter64(2**64 - 1),
    v2c.Gauge32(7),
    v2c.TimeTicks(123456),
    v2c.IpAddress("10.20.0.5"),
    v2c.ObjectIdentifier((1, 3, 6, 1, 2, 1, 33, 1, 6, 3, 2)),
    v2c.OctetString("GigabitEthernet0/0/1"),
    v2c.OctetString(b"\x00\x1b\x21\x3c\x4d\x5e"),
    v2c.OctetString("机房 UPS 1".encode("gb18030")),
    v2c.OctetString("机房 UPS 1".encode()),
    v2c.OctetString(b""),
    v2c.Null(""),
]


@pytest.fixture
def pysnmp_traps() -> Iterator[tuple[SnmpListener, list[Trap]]]:
    """Return a pysnmp listener (never started: messages are handed to it) and the traps it produced."""
    got: list[Trap] = []
    settings = SnmpSettings(listen="127.0.0.1:0", decoder="pysnmp")
    listener = SnmpListener(settings, {"lab": COMMUNITY}, [], got.append, lambda reason: None)
    yield listener, got
    listener.sock.close()


def test_every_value_type_reads_the_same_on_both_paths(pysnmp_traps: tuple[SnmpListener, list[Trap]]) -> None:
    listener, got = pysnmp_traps
    fast = FastTraps([COMMUNITY])
    binds = [((1, 3, 6, 1, 4, 1, 99, i, 0), value) for i, value in enumerate(VALUES)]
    binds.append(((1, 3, 6, 1, 6, 3, 18, 1, 3, 0), v2c.IpAddress("127.0.0.4")))  # snmpTrapAddress.0
    messages = [v2c_trap(COMMUNITY, 7, UPS_ON_BATTERY, binds), link_trap(COMMUNITY, 8, 24, up=False)]
    for message in messages:
        listener.transport.deliver(message, ("127.0.0.2", 40000))
        mine = fast.decode(message, "127.0.0.2")
        assert mine is not None and mine == got[-1]
    assert got[0].agent == "127.0.0.4" and got[0].trap_oid == "1.3.6.1.2.1.33.2.1"
    texts = [text for oid, text in got[0].varbinds if oid[:7] == (1, 3, 6, 1, 4, 1, 99)]
    assert texts[6:12] == ["10.20.0.5", "1.3.6.1.2.1.33.1.6.3.2", "GigabitEthernet0/0/1", "0x001b213c4d5e",
                           "机房 UPS 1", "机房 UPS 1"]  # fmt: skip


def test_what_the_fast_path_does_not_take_goes_to_pysnmp(
    pysnmp_traps: tuple[SnmpListener, list[Trap]],
) -> None:
    listener, got = pysnmp_traps
    fast = FastTraps([COMMUNITY])
    wrong = link_trap("guess", 1, 3, up=False)
    assert fast.decode(wrong, "127.0.0.2") is None
    listener.transport.deliver(wrong, ("127.0.0.2", 40000))
    assert got == [] and listener.rejected()["bad_community"] == 1
    assert fast.decode(b"\x30\x03\x02\x01", "127.0.0.2") is None  # truncated
    assert fast.decode(b"garbage", "127.0.0.2") is None

"""Receive SNMP traps and informs (v1, v2c, v3 USM) with pysnmp, and acknowledge informs.

pysnmp decodes, authenticates and decrypts each message and answers informs; its own asyncio transport is
not used. One thread only reads the socket into a bounded backlog, another feeds pysnmp: a burst of traps
lands in the backlog at the speed of `recvfrom` instead of overflowing the kernel's buffer while pysnmp
works, and what still cannot wait is counted (``dropped{reason="backlog_full"}``), never lost silently.

A v1 trap's agent address and a v2c/v3 trap's ``snmpTrapAddress.0`` (pysnmp turns the former into the
latter) are kept as the trap's `agent`; the receiver believes them only from a trusted trap relay
(``snmp.relays``), and maps anyone else's traps by the UDP source address.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.carrier.base import AbstractTransport, AbstractTransportDispatcher
from pysnmp.entity import config as snmpconfig
from pysnmp.entity import engine as snmpengine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.api import v2c

from exporters.core.server import parse_listen_address
from exporters.events.config import SnmpSettings, UserKeys
from exporters.events.fastpath import FastTraps
from exporters.events.trap import Trap, build_trap, render_value
from exporters.network.pysnmp_backend import AUTH_PROTOCOLS, PRIV_PROTOCOLS

log = logging.getLogger("hospmon.events")
# pysnmp's own counters of messages it refused, by our reason name.
REJECT_COUNTERS = {
    "parse_error": ("__SNMPv2-MIB", "snmpInASNParseErrs"),
    "bad_version": ("__SNMPv2-MIB", "snmpInBadVersions"),
    "bad_community": ("__SNMPv2-MIB", "snmpInBadCommunityNames"),
    "unknown_user": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"),
    "unknown_engine_id": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownEngineIDs"),
    "wrong_digest": ("__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"),
    "decryption_error": ("__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"),
    "unsupported_security_level": ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"),
}


class _Dispatcher(AbstractTransportDispatcher):  # type: ignore[misc]
    """pysnmp's dispatcher interface, driven by our decoder thread instead of an event loop."""

    def run_dispatcher(self, timeout: float = 0.0) -> None:
        """Never used: the decoder thread delivers messages and timer ticks."""


class _Transport(AbstractTransport):  # type: ignore[misc]
    """pysnmp's transport interface over our socket: replies (inform acknowledgements) go out here."""

    PROTO_TRANSPORT_DISPATCHER = _Dispatcher

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send_message(self, outgoingMessage: bytes, transportAddress: Any) -> None:
        """Send a reply; a failure loses the acknowledgement and the sender retries its inform."""
        try:
            self.sock.sendto(outgoingMessage, tuple(transportAddress)[:2])
        except OSError as exc:
            log.debug("cannot answer %s: %s", transportAddress, exc)

    def deliver(self, data: bytes, address: tuple[str, int]) -> None:
        """Hand one received datagram to pysnmp."""
        callback = self._callback_function
        if callback is not None:
            callback(self, address, data)


def build_engine(
    communities: dict[str, str], users: list[UserKeys], sock: socket.socket
) -> tuple[Any, _Transport]:
    """Return a pysnmp engine that knows our communities and users, replying through `sock`."""
    eng = snmpengine.SnmpEngine()
    transport = _Transport(sock)
    snmpconfig.add_transport(eng, udp.DOMAIN_NAME, transport)
    for name, community in communities.items():
        snmpconfig.add_v1_system(eng, name, community)
    for keys in users:
        user = keys.user
        auth = AUTH_PROTOCOLS[user.auth_protocol] if keys.auth_key else snmpconfig.USM_AUTH_NONE
        priv = PRIV_PROTOCOLS[user.priv_protocol] if keys.priv_key else snmpconfig.USM_PRIV_NONE
        # The receiver's own engine ID serves informs; each sender's engine ID serves its traps.
        snmpconfig.add_v3_user(eng, user.username, auth, keys.auth_key, priv, keys.priv_key)
        for engine_id in user.engine_ids:
            snmpconfig.add_v3_user(
                eng,
                user.username,
                auth,
                keys.auth_key,
                priv,
                keys.priv_key,
                securityEngineId=v2c.OctetString(hexValue=engine_id.removeprefix("0x")),
            )
    return eng, transport


class SnmpListener:
    """The trap socket, its reader thread and its pysnmp decoder thread."""

    def __init__(
        self,
        settings: SnmpSettings,
        communities: dict[str, str],
        users: list[UserKeys],
        on_trap: Callable[[Trap], None],
        on_drop: Callable[[str], None],
    ) -> None:
        host, port = parse_listen_address(settings.listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, settings.receive_buffer_bytes)
        self.sock.bind((host, port))
        self.sock.settimeout(0.5)
        self.address = self.sock.getsockname()[:2]
        self.engine, self.transport = build_engine(communities, users, self.sock)
        ntfrcv.NotificationReceiver(self.engine, self._notification)
        self.on_trap = on_trap
        self.on_drop = on_drop
        self.fast = FastTraps(list(communities.values())) if settings.decoder == "fast" else None
        self.backlog: queue.Queue[tuple[bytes, tuple[str, int]]] = queue.Queue(settings.backlog)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read, name="snmp-read", daemon=True),
            threading.Thread(target=self._decode, name="snmp-decode", daemon=True),
        ]

    def start(self) -> None:
        """Start reading and decoding."""
        for thread in self._threads:
            thread.start()
        log.info("receiving SNMP traps and informs on %s:%d/udp", *self.address)

    def stop(self) -> None:
        """Stop reading, finish what waits in the backlog, close the socket."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(10)
        self.sock.close()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data, address = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self.backlog.put_nowait((data, address[:2]))
            except queue.Full:
                self.on_drop("backlog_full")

    def _decode(self) -> None:
        dispatcher = self.engine.transport_dispatcher
        last_tick = 0.0
        while True:
            try:
                data, address = self.backlog.get(timeout=0.2)
            except queue.Empty:
                if self._stop.is_set():
                    return
                data = b""
            trap = self.fast.decode(data, address[0]) if data and self.fast is not None else None
            if trap is not None:
                self.on_trap(trap)
            elif data:
                try:
                    self.transport.deliver(data, address)
                except Exception:  # pysnmp counts what it refuses; anything else must not stop the thread
                    log.exception("SNMP message from %s could not be processed", address[0])
                    self.on_drop("malformed")
            now = time.monotonic()
            if now - last_tick >= 0.1:
                dispatcher.handle_timer_tick(time.time())
                last_tick = now

    def _notification(
        self, eng: Any, ref: Any, _engine_id: Any, _context: Any, varbinds: Any, _ctx: Any
    ) -> None:
        _, address = eng.message_dispatcher.get_transport_info(ref)
        rendered = [(tuple(int(x) for x in oid), render_value(value)) for oid, value in varbinds]
        trap = build_trap(str(address[0]), rendered)
        if trap is None:
            self.on_drop("malformed")
            return
        self.on_trap(trap)

    def rejected(self) -> dict[str, int]:
        """Return pysnmp's counts of refused messages: bad community, unknown user, wrong digest, ..."""
        builder = self.engine.get_mib_builder()
        counts = {}
        for reason, (module, name) in REJECT_COUNTERS.items():
            try:
                (node,) = builder.import_symbols(module, name)
                counts[reason] = int(node.syntax)
            except Exception:  # a counter this pysnmp version does not keep
                counts[reason] = 0
        return counts

"""The syslog listeners: one datagram per message over UDP, RFC 6587 framing over TCP, in one asyncio thread.

Sockets are bound by `start` in the caller's thread, so a port already in use fails the start-up with
its reason. A TCP client beyond `max_connections`, or one that breaks octet-counting framing, is
disconnected and counted; the messages it sent before are kept.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable

from exporters.core.server import parse_listen_address
from exporters.events.config import SyslogSettings
from exporters.events.syslog import FrameError, Framer

log = logging.getLogger("hospmon.events")
OnMessage = Callable[[bytes, str], None]


def _bind(address: str, kind: socket.SocketKind) -> socket.socket:
    host, port = parse_listen_address(address)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if kind == socket.SOCK_DGRAM:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(128)
    sock.setblocking(False)
    return sock


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, on_message: OnMessage) -> None:
        self.on_message = on_message

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_message(data, str(addr[0]))


class _Stream(asyncio.Protocol):
    def __init__(self, listener: SyslogListener) -> None:
        self.listener = listener
        self.framer = Framer(listener.settings.max_message_bytes)
        self.peer = ""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = str(transport.get_extra_info("peername", ("?",))[0])
        if len(self.listener.connections) >= self.listener.settings.max_connections:
            self.listener.on_drop("too_many_connections")
            transport.close()
            return
        self.listener.connections.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except FrameError as exc:
            log.info("closing syslog connection from %s: %s", self.peer, exc)
            self.listener.on_drop("malformed")
            if self.transport is not None:
                self.transport.close()
            return
        for _ in range(self.framer.oversized):
            self.listener.on_drop("oversized")
        self.framer.oversized = 0
        for frame in frames:
            self.listener.on_message(frame, self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)


class SyslogListener:
    """UDP and TCP syslog on the addresses configured ("" disables one)."""

    def __init__(
        self, settings: SyslogSettings, on_message: OnMessage, on_drop: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_drop = on_drop
        self.connections: set[_Stream] = set()
        self.udp = _bind(settings.udp, socket.SOCK_DGRAM) if settings.udp else None
        self.tcp = _bind(settings.tcp, socket.SOCK_STREAM) if settings.tcp else None
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="syslog", daemon=True)

    def start(self) -> None:
        """Serve both listeners from a background thread."""
        self._thread.start()
        self._ready.wait(10)
        for sock, kind in ((self.udp, "udp"), (self.tcp, "tcp")):
            if sock is not None:
                log.info("receiving syslog on %s:%d/%s", *sock.getsockname()[:2], kind)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())
        self.loop.close()

    async def _serve(self) -> None:
        self._closing = asyncio.Event()
        datagrams = server = None
        if self.udp is not None:
            datagrams, _ = await self.loop.create_datagram_endpoint(
                lambda: _Datagrams(self.on_message), sock=self.udp
            )
        if self.tcp is not None:
            server = await self.loop.create_server(lambda: _Stream(self), sock=self.tcp)
        self._ready.set()
        await self._closing.wait()
        if datagrams is not None:
            datagrams.close()
        if server is not None:
            server.close()
        for stream in list(self.connections):
            if stream.transport is not None:
                stream.transport.close()
        if server is not None:
            await server.wait_closed()
        await asyncio.sleep(0)

    def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._closing.set)
            self._thread.join(10)
        for sock in (self.udp, self.tcp):
            if sock is not None:
                sock.close()

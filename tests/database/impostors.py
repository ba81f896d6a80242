"""Impostor database servers on loopback that ask for the password in clear and record every byte sent.

They speak just enough of each protocol to get there: PostgreSQL's startup (refusing SSL and GSS
encryption, then AuthenticationCleartextPassword) and MySQL's v10 handshake followed by an auth switch to
``mysql_clear_password``. What the client sends afterwards is kept in `received`, so a test can show the
password never arrived.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.received = bytearray()
        self.lock = threading.Lock()

    def keep(self, data: bytes) -> None:
        with self.lock:
            self.received += data


def _read_all(sock: socket.socket, server: _Server, seconds: float = 3.0) -> None:
    """Record what the client sends until it closes (or stays silent for `seconds`)."""
    sock.settimeout(seconds)
    try:
        while chunk := sock.recv(4096):
            server.keep(chunk)
    except OSError:
        pass


def _recv_exact(sock: socket.socket, n: int, server: _Server) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    server.keep(data)
    return data


class _PostgresHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock, server = self.request, self.server
        assert isinstance(server, _Server)
        sock.settimeout(5)
        try:
            while True:
                (length,) = struct.unpack("!i", _recv_exact(sock, 4, server))
                body = _recv_exact(sock, length - 4, server)
                if struct.unpack("!i", body[:4])[0] in (_SSL_REQUEST, _GSSENC_REQUEST):
                    sock.sendall(b"N")  # no encryption: the password would travel in the open
                    continue
                break  # the startup message
            sock.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        except (ConnectionError, OSError):
            return
        _read_all(sock, server)


def _mysql_packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


class _MysqlHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock, server = self.request, self.server
        assert isinstance(server, _Server)
        sock.settimeout(5)
        # CLIENT_LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH: no SSL.
        caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000
        salt = b"abcdefgh" + b"ijklmnopqrst"
        greeting = (
            b"\x0a8.0.36-impostor\x00"
            + struct.pack("<I", 7)
            + salt[:8]
            + b"\x00"
            + struct.pack("<H", caps & 0xFFFF)
            + b"\x21"
            + struct.pack("<H", 2)
            + struct.pack("<H", caps >> 16)
            + bytes([21])
            + bytes(10)
            + salt[8:]
            + b"\x00"
            + b"mysql_native_password\x00"
        )
        try:
            sock.sendall(_mysql_packet(0, greeting))
            header = _recv_exact(sock, 4, server)
            _recv_exact(sock, int.from_bytes(header[:3], "little"), server)  # the handshake response
            sock.sendall(_mysql_packet(header[3] + 1, b"\xfemysql_clear_password\x00"))
        except (ConnectionError, OSError):
            return
        _read_all(sock, server)


@contextmanager
def impostor(engine: str) -> Iterator[_Server]:
    """Run an impostor ``postgres`` or ``mysql`` server; its port is ``server.server_address[1]``."""
    server = _Server(_PostgresHandler if engine == "postgres" else _MysqlHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

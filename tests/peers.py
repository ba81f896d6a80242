"""Third-party peers for protocol probes: start a program on a free port and wait until it accepts TCP.

dcmtk's storescp and dcmqrscp (3.6.7) have no option to bind one address: they listen on every interface.
The tests give them a free port, reach them on 127.0.0.1 and stop them by their PID.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from demo.servers.process import accepts, running


@contextmanager
def tcp_process(argv: Sequence[str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a program until the block ends, after it accepts connections on 127.0.0.1:`port`."""
    with running(argv, lambda: accepts(port), log, cwd=log.parent, timeout=30) as proc:
        yield proc


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections, reads what comes and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)  # held open, never answered

    def close(self) -> None:
        """Stop accepting and close every held connection."""
        self.stopped.set()
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.sock.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(5)


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    """Yield a server that accepts and never replies."""
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def refused_port() -> int:
    """Return a port on 127.0.0.1 where nothing listens, so a connect is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_dicom_server(server: Any) -> None:
    """Shut a pynetdicom server down and wait for its association threads, so none outlives the test.

    `AssociationServer.shutdown` closes the listening socket only; an acceptor still running would close
    its connection later, in another test, where its socket would be reported as leaked. An acceptor of a
    connection that never associates (the exporter's TCP pre-check) waits for the server AE's
    ``acse_timeout``: keep it short. pynetdicom 3.0 leaves that connection's socket to the garbage collector;
    tests using such a peer ignore `PEER_SOCKET_LEAK`.
    """
    threads = server.active_associations
    server.shutdown()
    for thread in threads:
        thread.join(5)


# pytest's report of the socket pynetdicom's server leaks (see `stop_dicom_server`), for filterwarnings.
PEER_SOCKET_LEAK = "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"

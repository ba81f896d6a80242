"""A private MariaDB server: own data folder and socket, loopback, a free or given port.

Used by the tests (the database, HIS and LIS exporters' targets, a replica) and the demo (the HIS and LIS
databases, which it stops and starts again to play an outage).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pymysql

from demo.servers.process import free_port, require, start, terminate, wait_until


def _as_root_user() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


class MariaDBServer:
    """MariaDB with its data, socket, pid file and error log in `folder` (a fresh temporary one if None).

    The data folder outlives `stop` so the server can start again with its data; `remove` deletes a
    temporary folder. `options` are extra mariadbd options (time zone, binary log, server id, ...).
    """

    def __init__(
        self, folder: Path | None = None, *, port: int | None = None, options: Sequence[str] = ()
    ) -> None:
        self.temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="hospmon-mariadb-")) if folder is None else folder
        self.data = self.folder / "data"
        self.socket = str(self.folder / "mysqld.sock")
        self.log = self.folder / "error.log"
        self.port = port or free_port()
        self.options = list(options)
        self.proc: subprocess.Popen[bytes] | None = None

    def install(self) -> bool:
        """Create the data folder when it is missing; tell whether it was created."""
        if (self.data / "mysql").exists():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [require("mariadb-install-db"), "--no-defaults", f"--datadir={self.data}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *_as_root_user()],
            check=True, capture_output=True,
        )  # fmt: skip
        return True

    def argv(self) -> list[str]:
        """Return the command that runs the server in the foreground on 127.0.0.1."""
        return [
            require("mariadbd"), "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
            "--bind-address=127.0.0.1", f"--socket={self.socket}", f"--pid-file={self.folder / 'mysqld.pid'}",
            f"--log-error={self.log}", "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
            "--performance-schema=OFF", *self.options, *_as_root_user(),
        ]  # fmt: skip

    def start(self, timeout: float = 60.0) -> bool:
        """Start the server (installing it first if needed) and wait until it answers; tell if it is new."""
        fresh = self.install()
        self.proc = start(self.argv(), self.folder / "mariadbd.out")
        wait_until(lambda: self.admin().close() or True, "mariadbd", timeout, self.proc, self.log)
        return fresh

    def admin(self, database: str | None = None) -> pymysql.Connection:
        """Connect as root over the socket, in autocommit."""
        return pymysql.connect(
            unix_socket=self.socket, user="root", database=database, autocommit=True, charset="utf8mb4",
            connect_timeout=2,
        )  # fmt: skip

    @property
    def running(self) -> bool:
        """Tell whether the server process runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the server; its data stays for the next start."""
        if self.proc is not None:
            terminate(self.proc, grace=30)

    def remove(self) -> None:
        """Stop the server and delete its folder if it was a temporary one."""
        self.stop()
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

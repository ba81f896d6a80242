"""A private PostgreSQL 15 server: own folder, loopback, a free port; run as the postgres user when root.

Used by the tests (the router's store, the database exporter's targets, a streaming standby), the benches
and the demo (the EMR database).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psycopg

from demo.servers.process import free_port, start, terminate, wait_until

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(argv: list[str]) -> list[str]:
    """Run `argv` as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PostgresServer:
    """Create a cluster in a fresh temporary folder (or a standby of `primary`); start, stop and remove it.

    `host_auth` is the method for TCP clients (``trust`` for tests, ``scram-sha-256`` where a password must
    be checked); the superuser ``postgres`` always connects over the socket in ``root`` without one.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host_auth: str = "trust",
        settings: dict[str, str] | None = None,
        primary: PostgresServer | None = None,
    ) -> None:
        if not (PG_BIN / "postgres").exists():
            raise RuntimeError(f"PostgreSQL is not installed in {PG_BIN}: apt-get install postgresql")
        self.root = Path(tempfile.mkdtemp(prefix="hospmon-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = port or free_port()
        self.host_auth = host_auth
        self.settings = {"listen_addresses": "127.0.0.1", "max_connections": "200", **(settings or {})}
        self.primary = primary
        self.proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)

    @property
    def sockdir(self) -> str:
        """Return the folder holding the server's Unix socket."""
        return str(self.root)

    def init(self) -> PostgresServer:
        """Create the cluster: initdb, or a base backup of the primary that starts as its standby."""
        if self.primary is None:
            create = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                      f"--auth-host={self.host_auth}", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
                      "--no-instructions"]  # fmt: skip
        else:
            # A fast checkpoint: the default spread one makes pg_basebackup wait minutes on an idle primary.
            create = [str(PG_BIN / "pg_basebackup"), "-h", self.primary.sockdir, "-p", str(self.primary.port),
                      "-U", "postgres", "-D", str(self.data), "-R", "-X", "stream", "--no-sync",
                      "--checkpoint=fast"]  # fmt: skip
        subprocess.run(as_postgres(create), check=True, capture_output=True)
        return self

    def argv(self) -> list[str]:
        """Return the command that runs the server in the foreground."""
        argv = [str(PG_BIN / "postgres"), "-D", str(self.data), "-k", self.sockdir, "-p", str(self.port)]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return as_postgres(argv)

    def single_user(self, sql: str) -> None:
        """Run statements in single-user mode, before the server starts (roles, databases)."""
        argv = [str(PG_BIN / "postgres"), "--single", "-D", str(self.data), "postgres"]
        subprocess.run(as_postgres(argv), input=sql.encode(), check=True, capture_output=True)

    def start(self) -> PostgresServer:
        """Initialise the cluster if needed and start the server; wait until it accepts connections."""
        if not (self.data / "PG_VERSION").exists():
            self.init()
        self.proc = start(self.argv(), self.log)
        wait_until(self.answers, "postgres", 60, self.proc, self.log, 0.05)
        return self

    def restart(self) -> None:
        """Stop the server as an operator's restart does (fast shutdown), then start it on the same port."""
        self._halt()
        self.start()

    def answers(self) -> bool:
        """Tell whether the superuser can connect (raises while the server starts)."""
        self.admin().close()
        return True

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """Connect as the superuser over the socket, in autocommit."""
        return psycopg.connect(
            host=self.sockdir, port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def dsn(self, db: str) -> str:
        """Return a libpq connection string for a database (TCP, superuser)."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def url(self, db: str) -> str:
        """Return a SQLAlchemy URL for a database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def execute(self, sql: str, db: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE and the like)."""
        with self.admin(db) as conn:
            conn.execute(sql.encode())

    def _halt(self) -> None:
        """Stop our own postmaster with a fast shutdown (SIGINT) and wait for it."""
        if self.proc is not None:
            pidfile = self.data / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)
            # runuser exits with its child. Never SIGTERM it first: it would wait 2 s, then SIGKILL the
            # postmaster in the middle of its shutdown, leaving backends behind on the data folder.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)
            terminate(self.proc, grace=5)
            self.proc = None

    def stop(self) -> None:
        """Stop the server and remove its files."""
        self._halt()
        shutil.rmtree(self.root, ignore_errors=True)

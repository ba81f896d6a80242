"""A private PostgreSQL server for tests and the bench: own data dir, loopback, a free port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.servers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresServer:
    """Start PostgreSQL 15 as the postgres user in a temporary directory; stop it and remove everything."""

    def __init__(self) -> None:
        if not (PG_BIN / "postgres").exists():
            raise RuntimeError(f"PostgreSQL is not installed in {PG_BIN}; install postgresql (deps/apt.txt)")
        self.root = Path(tempfile.mkdtemp(prefix="hospmon-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)

    def _as_postgres(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args]

    def start(self) -> PostgresServer:
        """Initialise the cluster and start the server; wait until it accepts connections."""
        subprocess.run(
            self._as_postgres(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ),
            check=True,
            capture_output=True,
        )
        return self._launch()

    def _launch(self) -> PostgresServer:
        """Start the server on the existing cluster; wait until it accepts connections."""
        log = (self.root / "postgres.log").open("ab")
        self.proc = subprocess.Popen(
            self._as_postgres(
                str(PG_BIN / "postgres"),
                "-D",
                str(self.data),
                "-k",
                str(self.root),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=1).close()
                return self
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = (self.root / "postgres.log").read_text(errors="replace")
                    raise RuntimeError(f"PostgreSQL did not start:\n{text}") from None
                time.sleep(0.05)

    def restart(self) -> None:
        """Stop the server as an operator's restart does (fast shutdown), then start it on the same port."""
        self._shutdown("fast")
        self._launch()

    def dsn(self, db: str) -> str:
        """Return a libpq connection string for a database."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def url(self, db: str) -> str:
        """Return a SQLAlchemy URL for a database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def execute(self, sql: str, db: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE and the like)."""
        with psycopg.connect(self.dsn(db), autocommit=True) as conn:
            conn.execute(sql.encode())

    def _shutdown(self, mode: str) -> None:
        if self.proc is not None:
            subprocess.run(
                self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"),
                capture_output=True,
                check=False,
            )
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        """Stop the server and remove its files."""
        self._shutdown("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

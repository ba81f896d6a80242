"""Private servers the benches start on loopback: any program with a readiness check, PostgreSQL, MariaDB.

Kept minimal on purpose: the project is gathering the start-up of private servers for tests, demo and
benches into one module; the benches move to it when it lands. Benches never import ``tests``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MONITOR_USER, MONITOR_PASSWORD = "hospmon", "monitor-secret-pw"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, timeout: float = 30.0, headers: dict[str, str] | None = None) -> bytes:
    """GET a URL with the scrape-timeout header Prometheus sends; raise on a non-2xx answer."""
    request = urllib.request.Request(
        url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "10", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        body: bytes = resp.read()
        return body


def http_ok(url: str) -> bool:
    """Tell whether `url` answers 200 now."""
    try:
        fetch(url, timeout=2)
        return True
    except (urllib.error.URLError, OSError):
        return False


def tcp_ok(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def process(
    argv: Sequence[str],
    ready: Callable[[], bool],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a program until the block ends, once `ready()` is true; stop it by its PID."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd,
        )  # fmt: skip
    try:
        until = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None or time.monotonic() > until:
                raise SystemExit(f"{argv[0]} did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _as_user(user: str, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Postgres:
    """A private PostgreSQL 15: superuser ``postgres`` over the socket, ``hospmon`` (pg_monitor) over TCP."""

    port: int
    sockdir: Path
    proc: subprocess.Popen[bytes]

    def url(self, database: str, user: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """Return a SQLAlchemy URL for `database` over TCP (trust for the superuser)."""
        return f"{driver}://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL as the superuser with psql; return its unaligned output."""
        argv = ["psql", "-h", str(self.sockdir), "-p", str(self.port), "-U", "postgres", "-d", database,
                "-AtqX", "-v", "ON_ERROR_STOP=1"]  # fmt: skip
        return subprocess.run(argv, input=statement, check=True, capture_output=True, text=True).stdout


@contextlib.contextmanager
def postgres(durable: bool = True) -> Iterator[Postgres]:
    """Start PostgreSQL on a free loopback port; `durable` keeps fsync on (as production runs it)."""
    if not (PG_BIN / "postgres").exists():
        raise SystemExit(f"PostgreSQL is not installed in {PG_BIN}: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="hm-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
              "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]  # fmt: skip
    subprocess.run(_as_user("postgres", initdb), check=True, capture_output=True)
    # trust on loopback for the superuser only; the monitoring account logs in with its password
    hba = data / "pg_hba.conf"
    hba.write_text("host all postgres 127.0.0.1/32 trust\n" + hba.read_text())
    argv = [str(PG_BIN / "postgres"), "-D", str(data), "-k", str(root), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100",
            "-c", f"fsync={'on' if durable else 'off'}"]  # fmt: skip
    with process(_as_user("postgres", argv), lambda: tcp_ok(port), root / "server.log", timeout=60) as proc:
        server = Postgres(port, root, proc)
        for _ in range(100):  # the port opens before the server accepts logins
            try:
                server.sql("SELECT 1")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.1)
        server.sql(f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}'")
        server.sql(f"GRANT pg_monitor TO {MONITOR_USER}")
        try:
            yield server
        finally:
            # runuser does not pass SIGINT on: tell the postmaster itself to shut down fast
            with contextlib.suppress(OSError, ValueError):
                os.kill(int((data / "postmaster.pid").read_text().split()[0]), signal.SIGINT)
            proc.wait(30)
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class MariaDB:
    """A private MariaDB: root over the socket, ``hospmon`` (PROCESS, REPLICA MONITOR) over TCP."""

    port: int
    socket: Path

    def sql(self, statement: str, database: str = "") -> str:
        """Run SQL as root with the mariadb client; return its tab-separated output."""
        argv = ["mariadb", f"--socket={self.socket}", "-uroot", "-N", "-B", *([database] if database else [])]
        return subprocess.run(argv, input=statement, check=True, capture_output=True, text=True).stdout


@contextlib.contextmanager
def mariadb() -> Iterator[MariaDB]:
    """Start MariaDB on a free loopback port with the monitoring account."""
    mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    if not mariadbd:
        raise SystemExit("MariaDB is not installed: apt-get install mariadb-server")
    root = Path(tempfile.mkdtemp(prefix="hm-bench-maria-"))
    data, sock, port = root / "data", root / "mysqld.sock", free_port()
    user = ["--user=root"] if os.geteuid() == 0 else []
    install = ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--skip-test-db",
               "--auth-root-authentication-method=normal", *user]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True)
    argv = [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
            f"--socket={sock}", f"--pid-file={root / 'pid'}", "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M", "--max-connections=50", f"--tmpdir={root}", *user]  # fmt: skip
    try:
        with process(argv, sock.exists, root / "error.log"):
            server = MariaDB(port, sock)
            server.sql(
                f"CREATE USER '{MONITOR_USER}'@'127.0.0.1' IDENTIFIED BY '{MONITOR_PASSWORD}';"
                f"GRANT PROCESS, REPLICA MONITOR, SELECT ON *.* TO '{MONITOR_USER}'@'127.0.0.1'"
            )
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)

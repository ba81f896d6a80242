"""Private MariaDB and PostgreSQL servers for the tests: own data dir, socket dir and loopback port."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MONITOR_USER = "hospmon"
MONITOR_PASSWORD = "monitor-secret-pw"
REPL_PASSWORD = "replication-pw"
START_SECONDS = 60.0


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: object, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `check` until it returns without raising; fail with the server log if it never does."""
    stop = time.monotonic() + START_SECONDS
    last: Exception | None = None
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        with warnings.catch_warnings():
            # A refused connect may leave its socket to the garbage collector; collect it here, quietly.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                check()  # type: ignore[operator]
                return
            except Exception as exc:
                last = exc
            gc.collect()
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {START_SECONDS} s: {last}")


@dataclass
class MariaDB:
    """A running private MariaDB server."""

    port: int
    socket: str
    proc: subprocess.Popen[bytes]

    def admin(self, database: str | None = None) -> pymysql.Connection:
        """Connect as root over the socket."""
        return pymysql.connect(unix_socket=self.socket, user="root", database=database, autocommit=True)


def _as_root_user() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


@contextlib.contextmanager
def mariadb_server(primary: MariaDB | None = None) -> Iterator[MariaDB]:
    """Start MariaDB on a free loopback port with a least-privilege monitoring account.

    With `primary`, start a replica of it instead: it gets the database and the account by replication.
    """
    mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    install = shutil.which("mariadb-install-db")
    if not mariadbd or not install:
        raise RuntimeError("MariaDB is not installed: apt-get install mariadb-server (see deps/apt.txt)")
    tmp = Path(tempfile.mkdtemp(prefix="hospmon-mariadb-"))
    data, sock, log = tmp / "data", str(tmp / "mysqld.sock"), tmp / "error.log"
    subprocess.run(
        [install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
         "--skip-test-db", *_as_root_user()],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={sock}", f"--pid-file={tmp / 'mysqld.pid'}", f"--log-error={log}", "--skip-name-resolve",
         "--innodb-buffer-pool-size=32M", "--performance-schema=OFF", "--max-connections=50",
         "--slow-query-log=ON", f"--slow-query-log-file={tmp / 'slow.log'}", "--long-query-time=0.5",
         f"--tmpdir={tmp}", f"--server-id={2 if primary else 1}", f"--log-bin={tmp / 'binlog'}",
         "--binlog-format=ROW",
         *_as_root_user()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = MariaDB(port, sock, proc)
    try:
        wait_until(lambda: server.admin().close(), "mariadbd", proc, log)
        if primary is not None:
            with server.admin() as conn, conn.cursor() as cur:
                cur.execute(
                    f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port},"
                    f" MASTER_USER='repl', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_USE_GTID=slave_pos"
                )
                cur.execute("START SLAVE")
            wait_until(lambda: server.admin("his").close(), "replication of the his database", proc, log)
            yield server
            return
        with server.admin() as conn, conn.cursor() as cur:
            for stmt in (
                f"CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'",
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
                "CREATE DATABASE his",
                "CREATE TABLE his.patients (id INT PRIMARY KEY, name VARCHAR(50), id_number VARCHAR(18),"
                " phone VARCHAR(11), clinic VARCHAR(20)) ENGINE=InnoDB",
                "INSERT INTO his.patients VALUES"
                " (1,'Zhang San','110101199003074514','13800138000','general'),"
                " (2,'Li Si','110101198512120021','13912345678','general'),"
                " (3,'Wang Wu','11010119700101003X','13700000001','specialist')",
                f"CREATE USER '{MONITOR_USER}'@'127.0.0.1' IDENTIFIED BY '{MONITOR_PASSWORD}'",
                f"GRANT PROCESS, REPLICA MONITOR ON *.* TO '{MONITOR_USER}'@'127.0.0.1'",
                f"GRANT SELECT ON his.* TO '{MONITOR_USER}'@'127.0.0.1'",
                # A table the account may write by its grants: the read-only session must still refuse.
                "CREATE TABLE his.scratch (x INT)",
                f"GRANT INSERT ON his.scratch TO '{MONITOR_USER}'@'127.0.0.1'",
            ):
                cur.execute(stmt)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Postgres:
    """A running private PostgreSQL server."""

    port: int
    sockdir: str
    data: Path
    proc: subprocess.Popen[bytes]

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """Connect as the superuser over the socket."""
        return psycopg.connect(
            host=self.sockdir, port=self.port, user="postgres", dbname=dbname, autocommit=True
        )


def _run_as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres_server(primary: Postgres | None = None) -> Iterator[Postgres]:
    """Start PostgreSQL on a free loopback port with a pg_monitor account.

    With `primary`, start a streaming standby of it instead (``pg_basebackup -R``), named ``standby1``.
    """
    if not (PG_BIN / "postgres").exists():
        raise RuntimeError(f"PostgreSQL is not installed in {PG_BIN}: apt-get install postgresql")
    tmp = Path(tempfile.mkdtemp(prefix="hospmon-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data, log = tmp / "data", tmp / "server.log"
    if primary is None:
        create = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]  # fmt: skip
    else:
        # A fast checkpoint: the default spread one makes pg_basebackup wait minutes on an idle primary.
        create = [str(PG_BIN / "pg_basebackup"), "-h", primary.sockdir, "-p", str(primary.port),
                  "-U", "postgres", "-D", str(data), "-R", "-X", "stream", "--no-sync",
                  "--checkpoint=fast"]  # fmt: skip
    subprocess.run(_run_as_postgres(create), check=True, capture_output=True)
    port = free_port()
    logfd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o644)
    proc = subprocess.Popen(
        _run_as_postgres([str(PG_BIN / "postgres"), "-D", str(data), "-k", str(tmp), "-p", str(port),
                          "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "fsync=off",
                          "-c", "max_connections=40", "-c", "deadlock_timeout=200ms",
                          "-c", f"cluster_name={'standby1' if primary else 'primary'}",
                          "-c", "shared_preload_libraries=pg_stat_statements"]),
        stdout=logfd, stderr=logfd,
    )  # fmt: skip
    os.close(logfd)
    server = Postgres(port, str(tmp), data, proc)
    try:
        wait_until(lambda: server.admin().close(), "postgres", proc, log)
        if primary is not None:
            yield server
            return
        with server.admin() as conn:
            conn.execute(f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}'")
            conn.execute(f"GRANT pg_monitor TO {MONITOR_USER}")
            conn.execute("CREATE DATABASE his")
        with server.admin("his") as conn:
            conn.execute(
                "CREATE TABLE patients"
                " (id int PRIMARY KEY, name text, id_number text, phone text, clinic text)"
            )
            conn.execute(
                "INSERT INTO patients VALUES (1,'Zhang San','110101199003074514','13800138000','general'),"
                " (2,'Li Si','110101198512120021','13912345678','general'),"
                " (3,'Wang Wu','11010119700101003X','13700000001','specialist')"
            )
            conn.execute(f"GRANT SELECT ON patients TO {MONITOR_USER}")
            conn.execute("CREATE TABLE scratch (x int)")
            conn.execute("CREATE EXTENSION pg_stat_statements")
            conn.execute(f"GRANT INSERT ON scratch TO {MONITOR_USER}")
        yield server
    finally:
        pidfile = data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGINT)  # fast shutdown of our postmaster
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

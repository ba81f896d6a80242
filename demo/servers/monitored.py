"""Private MariaDB and PostgreSQL holding a database with a least-privilege monitoring account, and replicas
of them: the database exporter's targets in the tests and the benches."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from demo.servers.mariadb import MariaDBServer
from demo.servers.postgres import PostgresServer
from demo.servers.process import wait_until

MONITOR_USER = "hospmon"
REPL_PASSWORD = "replication-pw"  # noqa: S105 - a private loopback server of the tests


@contextlib.contextmanager
def monitored_mariadb(
    password: str, database: str = "his", primary: MariaDBServer | None = None
) -> Iterator[MariaDBServer]:
    """Start MariaDB with `database` and the account ``hospmon`` (process list, replica state, SELECT).

    With `primary`, start a replica of it instead: it gets the database and the account by replication.
    """
    server = MariaDBServer(options=["--max-connections=50", "--slow-query-log=ON", "--long-query-time=0.5",
                                    f"--server-id={2 if primary else 1}", "--binlog-format=ROW"])  # fmt: skip
    server.options += [f"--slow-query-log-file={server.folder / 'slow.log'}", f"--tmpdir={server.folder}",
                       f"--log-bin={server.folder / 'binlog'}"]  # fmt: skip
    try:
        server.start()
        if primary is None:
            statements = [
                f"CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'",
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
                f"CREATE DATABASE {database}",
                f"CREATE USER '{MONITOR_USER}'@'127.0.0.1' IDENTIFIED BY '{password}'",
                f"GRANT PROCESS, REPLICA MONITOR ON *.* TO '{MONITOR_USER}'@'127.0.0.1'",
                f"GRANT SELECT ON {database}.* TO '{MONITOR_USER}'@'127.0.0.1'",
            ]
        else:
            statements = [
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port},"
                f" MASTER_USER='repl', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_USE_GTID=slave_pos",
                "START SLAVE",
            ]
        with server.admin() as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
        if primary is not None:
            replicated = lambda: server.admin(database).close() or True  # noqa: E731
            wait_until(replicated, f"replication of {database}", 60, server.proc, server.log)
        yield server
    finally:
        server.remove()


@contextlib.contextmanager
def monitored_postgres(
    password: str, database: str = "his", primary: PostgresServer | None = None
) -> Iterator[PostgresServer]:
    """Start PostgreSQL with `database`, pg_stat_statements and the account ``hospmon`` (``pg_monitor``).

    With `primary`, start a streaming standby of it instead (``pg_basebackup -R``), named ``standby1``.
    """
    settings = {"shared_buffers": "16MB", "fsync": "off", "max_connections": "40",
                "deadlock_timeout": "200ms", "cluster_name": "standby1" if primary else "primary",
                "shared_preload_libraries": "pg_stat_statements"}  # fmt: skip
    server = PostgresServer(host_auth="scram-sha-256", settings=settings, primary=primary)
    try:
        server.start()
        if primary is None:
            with server.admin() as conn:
                conn.execute(f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{password}'".encode())
                conn.execute(f"GRANT pg_monitor TO {MONITOR_USER}".encode())
                conn.execute(f"CREATE DATABASE {database}".encode())
            with server.admin(database) as conn:
                conn.execute(b"CREATE EXTENSION pg_stat_statements")
        yield server
    finally:
        server.stop()

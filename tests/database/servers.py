"""The database exporter's test servers: private MariaDB and PostgreSQL (demo.servers) holding a ``his``
database with a canary patient table and a least-privilege monitoring account; replicas of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from demo.servers.mariadb import MariaDBServer
from demo.servers.postgres import PostgresServer
from demo.servers.process import free_port, wait_until

__all__ = ["MONITOR_PASSWORD", "MONITOR_USER", "MariaDB", "Postgres", "free_port"]

MariaDB = MariaDBServer
Postgres = PostgresServer
MONITOR_USER = "hospmon"
MONITOR_PASSWORD = "monitor-secret-pw"
REPL_PASSWORD = "replication-pw"
PATIENTS = (
    " (1,'Zhang San','110101199003074514','13800138000','general'),"
    " (2,'Li Si','110101198512120021','13912345678','general'),"
    " (3,'Wang Wu','11010119700101003X','13700000001','specialist')"
)


@contextlib.contextmanager
def mariadb_server(primary: MariaDB | None = None) -> Iterator[MariaDB]:
    """Start MariaDB on a free loopback port with a least-privilege monitoring account.

    With `primary`, start a replica of it instead: it gets the database and the account by replication.
    """
    server = MariaDBServer(options=["--max-connections=50", "--slow-query-log=ON", "--long-query-time=0.5",
                                    f"--server-id={2 if primary else 1}", "--binlog-format=ROW"])  # fmt: skip
    server.options += [f"--slow-query-log-file={server.folder / 'slow.log'}", f"--tmpdir={server.folder}",
                       f"--log-bin={server.folder / 'binlog'}"]  # fmt: skip
    try:
        server.start()
        with server.admin() as conn, conn.cursor() as cur:
            for stmt in _replica_of(primary) if primary else _primary_setup():
                cur.execute(stmt)
        if primary is not None:
            wait_until(
                lambda: server.admin("his").close() or True, "replication of his", 60, server.proc, server.log
            )
        yield server
    finally:
        server.remove()


def _replica_of(primary: MariaDB) -> list[str]:
    return [
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port},"
        f" MASTER_USER='repl', MASTER_PASSWORD='{REPL_PASSWORD}', MASTER_USE_GTID=slave_pos",
        "START SLAVE",
    ]


def _primary_setup() -> list[str]:
    return [
        f"CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'",
        "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'",
        "CREATE DATABASE his",
        "CREATE TABLE his.patients (id INT PRIMARY KEY, name VARCHAR(50), id_number VARCHAR(18),"
        " phone VARCHAR(11), clinic VARCHAR(20)) ENGINE=InnoDB",
        "INSERT INTO his.patients VALUES" + PATIENTS,
        f"CREATE USER '{MONITOR_USER}'@'127.0.0.1' IDENTIFIED BY '{MONITOR_PASSWORD}'",
        f"GRANT PROCESS, REPLICA MONITOR ON *.* TO '{MONITOR_USER}'@'127.0.0.1'",
        f"GRANT SELECT ON his.* TO '{MONITOR_USER}'@'127.0.0.1'",
        # A table the account may write by its grants: the read-only session must still refuse.
        "CREATE TABLE his.scratch (x INT)",
        f"GRANT INSERT ON his.scratch TO '{MONITOR_USER}'@'127.0.0.1'",
    ]


@contextlib.contextmanager
def postgres_server(primary: Postgres | None = None) -> Iterator[Postgres]:
    """Start PostgreSQL on a free loopback port with a pg_monitor account.

    With `primary`, start a streaming standby of it instead (``pg_basebackup -R``), named ``standby1``.
    """
    settings = {"shared_buffers": "16MB", "max_connections": "40", "deadlock_timeout": "200ms",
                "cluster_name": "standby1" if primary else "primary",
                "shared_preload_libraries": "pg_stat_statements"}  # fmt: skip
    server = PostgresServer(host_auth="scram-sha-256", settings=settings, primary=primary)
    try:
        server.start()
        if primary is None:
            _seed_postgres(server)
        yield server
    finally:
        server.stop()


def _seed_postgres(server: Postgres) -> None:
    with server.admin() as conn:
        conn.execute(f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}'")
        conn.execute(f"GRANT pg_monitor TO {MONITOR_USER}")
        conn.execute("CREATE DATABASE his")
    with server.admin("his") as conn:
        conn.execute(
            "CREATE TABLE patients (id int PRIMARY KEY, name text, id_number text, phone text, clinic text)"
        )
        conn.execute("INSERT INTO patients VALUES" + PATIENTS)
        conn.execute(f"GRANT SELECT ON patients TO {MONITOR_USER}")
        conn.execute("CREATE TABLE scratch (x int)")
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute(f"GRANT INSERT ON scratch TO {MONITOR_USER}")

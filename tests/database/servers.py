"""The database exporter's test servers (demo.servers.monitored): a ``his`` database with a canary patient
table the monitoring account may read, and a table it may write by its grants (the read-only session must
still refuse)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from demo.servers.mariadb import MariaDBServer
from demo.servers.monitored import MONITOR_USER, monitored_mariadb, monitored_postgres
from demo.servers.postgres import PostgresServer
from demo.servers.process import free_port

__all__ = ["MONITOR_PASSWORD", "MONITOR_USER", "MariaDB", "Postgres", "free_port"]

MariaDB = MariaDBServer
Postgres = PostgresServer
MONITOR_PASSWORD = "monitor-secret-pw"
PATIENTS = (
    " (1,'Zhang San','110101199003074514','13800138000','general'),"
    " (2,'Li Si','110101198512120021','13912345678','general'),"
    " (3,'Wang Wu','11010119700101003X','13700000001','specialist')"
)


@contextlib.contextmanager
def mariadb_server(primary: MariaDB | None = None) -> Iterator[MariaDB]:
    """Start MariaDB with the canary tables, or a replica of `primary` that gets them by replication."""
    with monitored_mariadb(MONITOR_PASSWORD, primary=primary) as server:
        if primary is None:
            with server.admin("his") as conn, conn.cursor() as cur:
                cur.execute(
                    "CREATE TABLE patients (id INT PRIMARY KEY, name VARCHAR(50), id_number VARCHAR(18),"
                    " phone VARCHAR(11), clinic VARCHAR(20)) ENGINE=InnoDB"
                )
                cur.execute("INSERT INTO patients VALUES" + PATIENTS)
                cur.execute("CREATE TABLE scratch (x INT)")
                cur.execute(f"GRANT INSERT ON his.scratch TO '{MONITOR_USER}'@'127.0.0.1'")
        yield server


@contextlib.contextmanager
def postgres_server(primary: Postgres | None = None) -> Iterator[Postgres]:
    """Start PostgreSQL with the canary tables, or a streaming standby of `primary`."""
    with monitored_postgres(MONITOR_PASSWORD, primary=primary) as server:
        if primary is None:
            with server.admin("his") as conn:
                conn.execute(
                    "CREATE TABLE patients"
                    " (id int PRIMARY KEY, name text, id_number text, phone text, clinic text)"
                )
                conn.execute("INSERT INTO patients VALUES" + PATIENTS)
                conn.execute(f"GRANT SELECT ON patients TO {MONITOR_USER}")
                conn.execute("CREATE TABLE scratch (x int)")
                conn.execute(f"GRANT INSERT ON scratch TO {MONITOR_USER}")
        yield server

"""The demo's EMR database (a private PostgreSQL on 127.0.0.1:15432) and the database exporter.

PostgreSQL refuses to run as root: its data folder lives in a fresh temporary folder owned by the ``postgres``
user (demo.servers.postgres). The monitoring account ``hospmon`` gets only ``pg_monitor``; its password is
generated into ``run/database/secrets/``, where the exporter reads it, beside a link to the HIS database's
password.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part
from demo.servers.postgres import PostgresServer

PG_PORT, EXPORTER_PORT = 15432, 19104
# The HIS database (MariaDB on 13306) belongs to the simulated HIS (demo/parts/his.py), which writes its
# monitoring account's password here.
HIS_PASSWORD_FILE = Path("his") / "secrets" / "his-db-password"


def _accepts_monitor(password: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=ports.port(PG_PORT),
            user="hospmon",
            password=password,
            dbname="emr",
            connect_timeout=1,
        ):
            return True
    except psycopg.Error:
        return False


def _emr_database(password: str) -> PostgresServer:
    """Create a PostgreSQL cluster with the EMR database and the monitoring account (not started)."""
    server = PostgresServer(port=ports.port(PG_PORT), host_auth="scram-sha-256").init()
    roles = f"CREATE ROLE hospmon LOGIN PASSWORD '{password}';\nGRANT pg_monitor TO hospmon;\n"
    server.single_user(roles + "CREATE DATABASE emr;\n")
    return server


def parts(run: Path, inventory: Path) -> list[Part]:
    """Start the EMR database, then the database exporter."""
    folder = run.resolve() / "database"
    (folder / "secrets").mkdir(parents=True, exist_ok=True)
    secret = folder / "secrets" / "db-monitor-password"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        secret.chmod(0o600)
    password = secret.read_text(encoding="utf-8").strip()
    his = folder / "secrets" / "his-db-password"
    if not his.is_symlink():
        his.unlink(missing_ok=True)
        his.symlink_to(run.resolve() / HIS_PASSWORD_FILE)
    server = _emr_database(password)
    return [
        Part(
            name="postgresql-emr-db",
            argv=server.argv(),
            ready_url="",
            shown_url=f"postgresql://{ports.addr(PG_PORT)}/emr",
            ready=functools.partial(_accepts_monitor, password),
            cleanup=server.stop,
        ),
        exporter_part("database", EXPORTER_PORT, exporter_config("database", folder), cwd=folder),
    ]

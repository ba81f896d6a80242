"""The demo's EMR database (a private PostgreSQL on 127.0.0.1:15432) and the database exporter.

PostgreSQL refuses to run as root, so its data folder lives in a fresh temporary folder owned by the
``postgres`` user. The monitoring account ``hospmon`` gets only ``pg_monitor``; its password is generated into
``run/database/secrets/``, where the exporter reads it, beside a link to the HIS database's password.
"""

from __future__ import annotations

import functools
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from demo.launcher import REPO, Part, console_script

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 15432
EXPORTER = "127.0.0.1:19104"
# The HIS database (MariaDB on 13306) belongs to the simulated HIS (demoparts/his.py), which writes its
# monitoring account's password here.
HIS_PASSWORD_FILE = Path("his") / "secrets" / "his-db-password"


def _run_as_postgres(argv: list[str], stdin: str | None = None) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv], input=stdin, text=True, check=True, capture_output=True
    )


def _accepts_monitor(password: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1", port=PG_PORT, user="hospmon", password=password, dbname="emr", connect_timeout=1
        ):
            return True
    except psycopg.Error:
        return False


def _init_postgres(password: str) -> Path:
    """Create a PostgreSQL cluster with the EMR database and the monitoring account; return its folder."""
    if not (PG_BIN / "postgres").exists():
        raise RuntimeError("the demo needs PostgreSQL 15: apt-get install postgresql (make deps does)")
    pg = pwd.getpwnam("postgres")
    data = Path(tempfile.mkdtemp(prefix="hospmon-demo-pg-"))
    os.chown(data, pg.pw_uid, pg.pw_gid)
    _run_as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data / "data"),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    setup = (
        f"CREATE ROLE hospmon LOGIN PASSWORD '{password}';\n"
        "GRANT pg_monitor TO hospmon;\n"
        "CREATE DATABASE emr;\n"
    )
    _run_as_postgres(
        [str(PG_BIN / "postgres"), "--single", "-D", str(data / "data"), "postgres"], stdin=setup
    )
    return data


def parts(run: Path, inventory: Path) -> list[Part]:
    """Start the EMR database, then the database exporter."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        raise RuntimeError("the demo's PostgreSQL is started as the postgres user: run make demo as root")
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
    data = _init_postgres(password)
    return [
        Part(
            name="postgresql emr-db",
            argv=[
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "postgres"),
                "-D",
                str(data / "data"),
                "-k",
                str(data),
                "-p",
                str(PG_PORT),
                "-c",
                "listen_addresses=127.0.0.1",
            ],
            ready_url="",
            shown_url=f"postgresql://127.0.0.1:{PG_PORT}/emr",
            ready=functools.partial(_accepts_monitor, password),
            cleanup=functools.partial(shutil.rmtree, data, ignore_errors=True),
        ),
        Part(
            name="database-exporter",
            argv=[
                console_script("hospmon-database-exporter"),
                f"--config.file={REPO / 'deploy' / 'exporters' / 'database.yml'}",
                f"--web.listen-address={EXPORTER}",
            ],
            ready_url=f"http://{EXPORTER}/-/healthy",
            shown_url=f"http://{EXPORTER}",
            cwd=folder,
        ),
    ]

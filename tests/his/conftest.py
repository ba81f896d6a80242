"""A real MariaDB holding the demo HIS schema with planted rows, and the HIS exporter's config for it."""

from __future__ import annotations

import contextlib
import gc
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.his import simulator
from tests.conftest import LOOPBACK_ADHOC
from tests.database.servers import MONITOR_PASSWORD, MONITOR_USER, MariaDB, mariadb_server
from tests.emr.fakeemr import CANARY_ID_NUMBER, CANARY_MRN, CANARY_NAME, CANARY_PHONE

REPO = Path(__file__).resolve().parents[2]
DATABASE = "hisdemo"


# Rows relative to NOW(): what the shipped queries must count. (clinic, minutes ago, status)
REGISTRATIONS = [
    ("internal-med", 2, "waiting"),
    ("internal-med", 5, "waiting"),
    ("internal-med", 8, "waiting"),
    ("surgery", 4, "finished"),
    ("emergency", 1, "waiting"),
    ("gynecology", 30, "finished"),  # outside the 10-minute window
]
# (pharmacy, minutes since payment, status)
PRESCRIPTIONS = [("op-western", 40, "paid"), ("op-western", 3, "paid"), ("op-tcm", 6, "dispensed")]
BILLS = [("ok", 1), ("ok", 2), ("ok", 3), ("failed", 4), ("failed", 25)]
# (status, minutes ago, seconds to answer or None)
SETTLEMENTS = [("success", 2, 0.5), ("success", 3, 1.5), ("failed", 4, 1.0), ("pending", 1, None)]
# (channel, seconds ago, status)
MESSAGES = [("lis-orders", 700, "pending"), ("lis-orders", 30, "error"), ("emr-sync", 20, "sent")]


def plant(server: MariaDB, database: str = DATABASE) -> None:
    """Create the demo schema in `database`, plant the rows above and the patient canaries, grant SELECT."""
    with server.admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")
        cur.execute(f"USE {database}")
        for statement in simulator.schema_statements():
            cur.execute(statement)
        # The worst case: the account may read every table, patients included.
        cur.execute(f"GRANT SELECT ON {database}.* TO '{MONITOR_USER}'@'127.0.0.1'")
        cur.execute(
            "INSERT INTO patient (mrn, name, id_number, phone, insurance)"
            " VALUES (%s, %s, %s, %s, 'employee')",
            (CANARY_MRN, CANARY_NAME, CANARY_ID_NUMBER, CANARY_PHONE),
        )
        note = f"{CANARY_NAME} {CANARY_PHONE} {CANARY_ID_NUMBER} {CANARY_MRN}"
        for clinic, minutes, status in REGISTRATIONS:
            cur.execute(
                "INSERT INTO registration (patient_id, clinic_code, registered_at, status, note)"
                " VALUES (1, %s, NOW(3) - INTERVAL %s MINUTE, %s, %s)",
                (clinic, minutes, status, note),
            )
        for pharmacy, minutes, status in PRESCRIPTIONS:
            cur.execute(
                "INSERT INTO prescription (reg_id, pharmacy_code, created_at, status, paid_at)"
                " VALUES (1, %s, NOW(3) - INTERVAL %s MINUTE, %s, NOW(3) - INTERVAL %s MINUTE)",
                (pharmacy, minutes + 1, status, minutes),
            )
        for status, minutes in BILLS:
            cur.execute(
                "INSERT INTO billing (reg_id, created_at, amount, channel, status)"
                " VALUES (1, NOW(3) - INTERVAL %s MINUTE, 12.5, 'kiosk', %s)",
                (minutes, status),
            )
        for status, minutes, seconds in SETTLEMENTS:
            cur.execute(
                "INSERT INTO insurance_settlement (bill_id, requested_at, responded_at, status) VALUES (1,"
                " NOW(3) - INTERVAL %s MINUTE,"
                " NOW(3) - INTERVAL %s MINUTE + INTERVAL %s MICROSECOND, %s)",
                (minutes, minutes, None if seconds is None else int(seconds * 1e6), status),
            )
        for channel, seconds, status in MESSAGES:
            cur.execute(
                "INSERT INTO interface_message (channel, created_at, status, payload)"
                " VALUES (%s, NOW(3) - INTERVAL %s SECOND, %s, %s)",
                (channel, seconds, status, f"PID|||{CANARY_MRN}||{CANARY_NAME}||||||||{CANARY_PHONE}"),
            )


@contextlib.contextmanager
def his_server() -> Iterator[MariaDB]:
    """Start a private MariaDB with the demo HIS schema and the planted rows in database ``hisdemo``."""
    with mariadb_server() as server:
        # The start-up loop's refused connects can outlive it in a reference cycle; collect them quietly.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        plant(server)
        yield server


@pytest.fixture(scope="session")
def his_db() -> Iterator[MariaDB]:
    """The session's HIS database server."""
    with his_server() as server:
        yield server


def his_config(
    folder: Path, port: int, *, database: str = DATABASE, extra: dict[str, Any] | None = None
) -> Path:
    """Write the shipped deploy/exporters/his.yml pointed at a test server, with `extra` modules added."""
    config = yaml.safe_load((REPO / "deploy" / "exporters" / "his.yml").read_text(encoding="utf-8"))
    secret = folder / "his-db-password"
    secret.write_text(MONITOR_PASSWORD + "\n")
    config["database"]["auths"]["his-monitor"].update(password_file=str(secret), database=database)
    config["database"]["connections"]["his-db"].update(port=port, database=database)
    config["modules"].update(extra or {})
    del config["inventory"]  # the test servers are on loopback, not in the demo inventory
    config.update(LOOPBACK_ADHOC)
    path = folder / "his.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def probe(base: str, target: str, module: str, timeout: str | None = "5", **params: str) -> str:
    """GET /probe and return the body, whatever the status."""
    query = urllib.parse.urlencode({"target": target, "module": module, **params})
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout} if timeout else {}
    request = urllib.request.Request(f"{base}/probe?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return str(resp.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())


def value(body: str, series: str) -> float:
    """Return the value of one exposition line, failing when it is absent."""
    for line in body.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in\n{body}")


def has(body: str, series: str) -> bool:
    """Tell whether an exposition holds the series."""
    return any(line.startswith(series + " ") for line in body.splitlines())

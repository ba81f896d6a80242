"""The demo's HIS and EMR: a simulated HIS (its MariaDB on 13306 under run/his/, web front end on 18081 and
daily traffic), a simulated EMR FHIR endpoint on 18080, and the HIS and EMR exporters on 19105 and 19106.

Stop the HIS database to watch the business probes fail at the next scrape and ClinicalWebDown fire::

    curl -X POST http://127.0.0.1:18081/-/demo/database/stop     # .../start brings it back
"""

from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part

HIS_DB_PORT, HIS_WEB_PORT, FHIR_PORT, HIS_EXPORTER_PORT, EMR_EXPORTER_PORT = 13306, 18081, 18080, 19105, 19106


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write run/his/ and return the simulated HIS and EMR, then their exporters."""
    folder = run.resolve() / "his"
    (folder / "secrets").mkdir(parents=True, exist_ok=True)
    password = folder / "secrets" / "his-db-password"
    if not password.exists():
        # The database is created with this password on its first start: a new password needs a new one.
        shutil.rmtree(folder / "mariadb", ignore_errors=True)
        password.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password.chmod(0o600)
    simulator = [
        sys.executable, "-m", "demo.his.simulator", "--mariadb-dir", str(folder / "mariadb"),
        "--mariadb-port", str(ports.port(HIS_DB_PORT)), "--monitor-password-file", str(password),
        "--listen", ports.addr(HIS_WEB_PORT),
    ]  # fmt: skip
    fhir = ports.url(FHIR_PORT, "/fhir/metadata")
    emr = [sys.executable, "-m", "demo.emr.fhir_server", "--listen", ports.addr(FHIR_PORT)]
    his_ready, his_login = ports.url(HIS_WEB_PORT, "/-/ready"), ports.url(HIS_WEB_PORT, "/his/login")
    return [
        Part("his-simulator", simulator, his_ready, his_login),
        Part("emr-fhir", emr, fhir, fhir),
        exporter_part("his", HIS_EXPORTER_PORT, exporter_config("his", folder), cwd=folder),
        exporter_part("emr", EMR_EXPORTER_PORT, exporter_config("emr", folder), cwd=folder),
    ]  # fmt: skip

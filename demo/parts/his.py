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

from demo.launcher import REPO, Part

HIS_SIMULATOR = "http://127.0.0.1:18081"
FHIR = "http://127.0.0.1:18080/fhir"


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
    for name in ("his.yml", "emr.yml"):
        shutil.copy(REPO / "deploy" / "exporters" / name, folder / name)

    def exporter(name: str, port: int) -> Part:
        # `python -m` rather than the console script: it also runs before `pip install -e` adds new scripts.
        return Part(
            f"{name}-exporter",
            [sys.executable, "-m", f"exporters.{name}.main", f"--config.file={name}.yml",
             f"--web.listen-address=127.0.0.1:{port}"],
            f"http://127.0.0.1:{port}/-/healthy",
            f"http://127.0.0.1:{port}",
            cwd=folder,
        )  # fmt: skip

    simulator = [
        sys.executable, "-m", "demo.his.simulator", "--mariadb-dir", str(folder / "mariadb"),
        "--mariadb-port", "13306", "--monitor-password-file", str(password), "--listen", "127.0.0.1:18081",
    ]  # fmt: skip
    return [
        Part("his-simulator", simulator, f"{HIS_SIMULATOR}/-/ready", f"{HIS_SIMULATOR}/his/login"),
        Part(
            "emr-fhir",
            [sys.executable, "-m", "demo.emr.fhir_server", "--listen", "127.0.0.1:18080"],
            f"{FHIR}/metadata",
            f"{FHIR}/metadata",
        ),
        exporter("his", 19105),
        exporter("emr", 19106),
    ]

"""The demo's imaging and laboratory systems: an Orthanc archive, a dcmtk modality node, an MLLP LIS
interface and a LIS database with orders and results flowing, then the LIS and PACS exporters.

`parts` returns, in start order:

- ``orthanc``: the PACS archive (AE ``ARCHIVE``, DICOM 14242, HTTP 18042 with DICOMweb). Orthanc 1.10 cannot
  bind one address: it listens on every interface, and its HTTP API refuses clients other than loopback.
- ``pacs-lis-sim`` (``python -m demo.pacs_lis_simulator RUN/pacs_lis``, in
  ``demo/pacs_lis_simulator.py``): the simulated systems it owns and
  stops with itself: dcmtk's dcmqrscp on 11112 playing the stores of three modalities (AE titles ``CT1``,
  ``MR1``, ``DRED1``; like Orthanc it listens on every interface), a private MariaDB on 127.0.0.1:13307
  holding the LIS database ``lis``, and hl7apy's MLLP server on 127.0.0.1:12575 answering AA. It loads the
  synthetic studies (one ED radiograph is never routed to the archive, so the routing alert shows), keeps
  samples flowing through the LIS every 20 s, adds a CT study every few minutes, and answers
  ``http://127.0.0.1:18044/ready`` once all of that runs.
- ``lis-exporter`` (19107) and ``pacs-exporter`` (19108) with ``deploy/exporters/{lis,pacs}.yml``.

Every study is synthetic (pydicom, patient ``SYNTHETIC^DEMO``); every LIS row is made up.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from pathlib import Path

import yaml

from demo import ports
from demo.launcher import Part, exporter_config, exporter_part

AREA = "pacs_lis"
ORTHANC_DICOM, ORTHANC_HTTP, MODALITY_PORT, MLLP_PORT, LIS_DB_PORT, SIM_PORT = (
    14242, 18042, 11112, 12575, 13307, 18044,
)  # fmt: skip
ARCHIVE_AE = "ARCHIVE"
HOSPITAL_ZONE = "Asia/Shanghai"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
LIS_USER = "hospmon"
TICK_SECONDS = 20.0
NEW_STUDY_SECONDS = 180.0


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write the area's configs under ``run/pacs_lis`` and return its processes in start order."""
    del inventory  # the monitor entries are in demo/inventory; nothing here depends on the copy
    folder = (run / AREA).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    storage = folder / "orthanc-db"
    for fresh in (storage, folder / "mariadb"):
        if fresh.exists():
            shutil.rmtree(fresh)  # each run starts from fresh studies and a freshly seeded LIS
    orthanc = {
        "Name": "demo-pacs-archive",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "Plugins": [DICOMWEB_PLUGIN],
        "HttpPort": ports.port(ORTHANC_HTTP),
        "DicomPort": ports.port(ORTHANC_DICOM),
        "DicomAet": ARCHIVE_AE,
        "DicomCheckCalledAet": True,
        # Orthanc 1.10 listens on every interface (it has no option to bind one): its DICOM port answers only
        # the monitoring AE from this machine, its HTTP API only loopback clients.
        "DicomModalities": {"hospmon": ["HOSPMON", "127.0.0.1", 104]},
        "DicomCheckModalityHost": True,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (folder / "orthanc.json").write_text(json.dumps(orthanc, indent=2), encoding="utf-8")
    password = folder / "lis-db-password"
    if not password.exists():
        password.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password.chmod(0o600)
    lis_config = exporter_config("lis", folder)
    lis = yaml.safe_load(lis_config.read_text(encoding="utf-8"))
    lis["auths"]["lis-monitor"]["password_file"] = str(password)
    lis_config.write_text(yaml.safe_dump(lis, allow_unicode=True, sort_keys=False), encoding="utf-8")
    python = sys.executable
    return [
        Part(
            "orthanc",
            # Debian installs Orthanc in /usr/sbin, which is not on a user's PATH.
            [
                shutil.which("Orthanc", path=f"{os.environ.get('PATH', '')}:/usr/sbin") or "Orthanc",
                str(folder / "orthanc.json"),
            ],
            ports.url(ORTHANC_HTTP, "/system"),
            ports.url(ORTHANC_HTTP, "/app/explorer.html"),
            cwd=folder,
        ),
        Part(
            "pacs-lis-sim",
            [python, "-m", "demo.pacs_lis_simulator", str(folder)],
            ports.url(SIM_PORT, "/ready"),
            f"mllp://{ports.addr(MLLP_PORT)}  mysql://{ports.addr(LIS_DB_PORT)}/lis"
            f"  dicom://{ports.addr(MODALITY_PORT)}",
        ),
        exporter_part("lis", 19107, lis_config),
        exporter_part("pacs", 19108, exporter_config("pacs", folder)),
    ]

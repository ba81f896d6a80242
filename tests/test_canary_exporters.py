"""Canary patient, exporter layer: planted in the HIS, LIS, PACS and on a device, found in no metric or log.

柳如烟 (tests/canary.py) is registered in the HIS with her resident ID, MRN and phone, has a sample in the
LIS and a CT study in the PACS archive, and a ward switch's sysContact and sysLocation name her. The HIS and
LIS configs carry a careless module a vendor might write (ID, MRN and phone columns as labels, under patterns
bounded enough to pass ``--check-config``). After every exporter has been scraped, not one metric line or log
line holds a canary value. With the guard switched off (a test-only setting), the same scrapes leak her: the
test can fail.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.pacs.studies import synthetic_study, write_instances
from demo.servers.snmpd import Agent, snmpd
from exporters.core.probe import Exporter
from exporters.core.server import ExporterApp, RunningServer
from exporters.his.main import HisExporter
from exporters.lis.main import LisExporter
from exporters.network.exporter import NetworkExporter
from exporters.pacs.main import PacsExporter
from hospmon import phi
from tests.canary import CANARY, leaks
from tests.conftest import LOOPBACK_ADHOC, REPO
from tests.database.servers import MONITOR_PASSWORD, MariaDB
from tests.his.conftest import his_config, his_server
from tests.lis.test_sql import create_lis
from tests.pacs.conftest import ORTHANC_AE, Scp, orthanc, study_files
from tests.servers import http_get

__all__ = ["orthanc", "study_files"]  # session fixtures of the PACS tests, shared here

# What a careless vendor config exports: identifiers under aliases and bounded ASCII patterns.
CARELESS_HIS = {
    "kind": "sql",
    "queries": [
        {
            "name": "by_case",
            "sql": "SELECT mrn AS case_no, id_number AS ident, phone AS contact, COUNT(*) AS n"
            " FROM patient GROUP BY mrn, id_number, phone",
            "label_rules": {
                "case_no": {"pattern": "[A-Z0-9]{4,20}"},
                "ident": {"pattern": "[0-9X]{15,18}"},
                "contact": {"pattern": "[0-9-]{7,13}"},
            },
            "metrics": [
                {
                    "name": "hospmon_his_visits_by_case",
                    "help": "Visits by case.",
                    "labels": ["case_no", "ident", "contact"],
                    "values": ["n"],
                }
            ],
        }
    ],
}
CARELESS_LIS = {
    "prober": "sql",
    "queries": [
        {
            "name": "by_patient",
            "sql": "SELECT patient_id AS case_no, sample_no, COUNT(*) AS n FROM lab_order"
            " GROUP BY patient_id, sample_no",
            "label_rules": {
                "case_no": {"pattern": "[A-Z0-9]{4,20}"},
                "sample_no": {"pattern": "[A-Z0-9]{4,20}"},
            },
            "metrics": [
                {
                    "name": "hospmon_lis_samples_by_case",
                    "help": "Samples by case.",
                    "labels": ["case_no", "sample_no"],
                    "values": ["n"],
                }
            ],
        }
    ],
}


@dataclass
class Hospital:
    """The planted systems: the HIS/LIS database server, the switch agent and the PACS archive."""

    db: MariaDB
    agent: Agent
    archive: Scp


def _plant_lis(db: MariaDB) -> None:
    with db.admin() as conn, conn.cursor() as cur:
        create_lis(cur)
        cur.execute(
            "INSERT INTO lab_order (sample_no, patient_id, section, priority, test_code, status, ordered_at,"
            " received_at) VALUES (%s, %s, 'CHEM', 'STAT', 'K', 'received', NOW(), NOW())",
            (CANARY.visit, CANARY.mrn),
        )


def _plant_pacs(archive: Scp, folder: Path) -> None:
    import datetime as dt

    study = synthetic_study(["CT"], dt.datetime.now())
    for ds in study:
        ds.PatientName = CANARY.name_dicom
        ds.PatientID = CANARY.mrn
        ds.AccessionNumber = CANARY.accession
        ds.ReferringPhysicianName = CANARY.name_dicom
    for path in write_instances(study, folder):
        upload = urllib.request.Request(f"{archive.http}/instances", data=path.read_bytes(), method="POST")
        with urllib.request.urlopen(upload, timeout=10) as resp:
            assert resp.status == 200


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory, orthanc: Scp) -> Iterator[Hospital]:
    contact = f"sysContact {CANARY.name} {CANARY.phone_dashed}"
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(his_server())
        _plant_lis(db)
        agent = stack.enter_context(snmpd(extra=[contact, f"sysLocation ward 5, {CANARY.name_latin}"]))
        _plant_pacs(orthanc, tmp_path_factory.mktemp("canary-study"))
        yield Hospital(db, agent, orthanc)


def _configs(folder: Path, hospital: Hospital) -> list[tuple[Exporter[Any], Path, list[str]]]:
    """Write each exporter's config (the shipped one where there is one) and the probes to scrape."""
    (folder / "pw").write_text(MONITOR_PASSWORD + "\n")
    (folder / "community").write_text("public\n")
    his = his_config(folder, hospital.db.port, extra={"careless": CARELESS_HIS})
    lis_data = yaml.safe_load((REPO / "deploy" / "exporters" / "lis.yml").read_text(encoding="utf-8"))
    del lis_data["inventory"]
    lis_data["connections"]["lis-db"]["port"] = hospital.db.port
    lis_data["auths"]["lis-monitor"]["password_file"] = str(folder / "pw")
    lis_data["modules"]["careless"] = CARELESS_LIS
    lis = folder / "lis.yml"
    lis.write_text(yaml.safe_dump(lis_data, allow_unicode=True), encoding="utf-8")
    pacs = folder / "pacs.yml"
    pacs.write_text(
        yaml.safe_dump(
            LOOPBACK_ADHOC
            | {
                "modules": {
                    "studies_today": {"prober": "find", "calling_ae": "HOSPMON", "called_ae": ORTHANC_AE},
                    "qido": {"prober": "qido"},
                    "orthanc": {"prober": "orthanc"},
                }
            }
        )
    )
    network = folder / "network.yml"
    network.write_text(
        yaml.safe_dump(
            LOOPBACK_ADHOC
            | {"auths": {"public_v2": {"version": 2, "community_file": str(folder / "community")}}}
        )
    )
    archive, dicom = hospital.archive.http, f"{ORTHANC_AE}@{hospital.archive.target}"
    return [
        (HisExporter(), his, ["target=his-db&module=business", "target=his-db&module=careless"]),
        (LisExporter(), lis, ["target=lis-db&module=lis_flow", "target=lis-db&module=careless"]),
        (
            PacsExporter(),
            pacs,
            [
                f"target={dicom}&module=studies_today",
                f"target={archive}/dicom-web&module=qido",
                f"target={archive}&module=orthanc",
            ],
        ),
        (NetworkExporter(), network, [f"target={hospital.agent.target}&module=system,if_mib"]),
    ]


def _scrape_everything(folder: Path, hospital: Hospital) -> str:
    """Scrape every probe and every exporter's own /metrics; return all the text served."""
    served = []
    for exporter, config, probes in _configs(folder, hospital):
        with RunningServer(ExporterApp(exporter, config), "127.0.0.1", 0) as server:
            for query in probes:
                status, body = http_get(f"{server.url}/probe?{query}", timeout=15)
                assert status == 200, (query, body[:300])
                served.append(body.decode())
            served.append(http_get(f"{server.url}/metrics")[1].decode())
    return "\n".join(served)


@pytest.mark.parametrize("guard", ["on", "off"])
def test_the_canary_patient_leaves_through_no_exporter(
    tmp_path: Path,
    hospital: Hospital,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    guard: str,
) -> None:
    if guard == "off":
        monkeypatch.setattr(phi, "_TEST_ONLY_DISABLED", True)
    with caplog.at_level(logging.DEBUG):
        served = _scrape_everything(tmp_path, hospital)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert 'hospmon_probe_success{module="business"} 1.0' in served  # the honest queries still work
    assert "hospmon_snmp_system_info" in served
    if guard == "off":
        # Proof the test can fail: without the guard the careless modules and the switch leak her.
        assert {CANARY.mrn, CANARY.resident_id, CANARY.phone, CANARY.name} <= set(leaks(served))
        return
    assert leaks(served) == []
    assert leaks(logged) == []
    assert 'hospmon_probe_success{module="careless"} 0.0' in served  # refused whole, by rule
    assert 'sysContact="[redacted]"' in served and 'sysLocation="[redacted]"' in served
    assert 'hospmon_exporter_phi_refused_total{rule="resident_id"}' in served
    assert "rule=han_name" in logged and "rule=latin_name" in logged

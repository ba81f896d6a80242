"""The demo's simulated HIS and EMR end to end: simulator, exporters, Prometheus with the shipped rules."""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.request
from pathlib import Path

import pymysql
import pytest
import yaml

from demo.his import traffic
from tests.database.servers import MONITOR_PASSWORD, MONITOR_USER
from tests.his.conftest import REPO, his_config
from tests.servers import free_port, process, prometheus, promql, wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Return a Shanghai time in the week of Monday 2026-11-23."""
    return dt.datetime(2026, 11, 23 + day, hour, minute, tzinfo=SHANGHAI)


def test_daily_curve() -> None:
    monday_peak = traffic.registrations_per_hour("general", at(0, 9))
    assert monday_peak > 40
    assert traffic.registrations_per_hour("general", at(0, 7, 30)) > 0.5 * monday_peak  # before opening
    assert traffic.registrations_per_hour("general", at(0, 12, 45)) < 0.2 * monday_peak  # lunch
    assert traffic.registrations_per_hour("general", at(0, 21)) == 0
    assert 0 < traffic.registrations_per_hour("general", at(6, 9)) < 0.1 * monday_peak  # Sunday
    assert traffic.registrations_per_hour("emergency", at(6, 3)) > 0  # all night
    assert traffic.clinic_open(at(0, 8)) and traffic.clinic_open(at(5, 11, 59))
    assert not traffic.clinic_open(at(0, 12, 30)) and not traffic.clinic_open(at(5, 14))
    assert not traffic.clinic_open(at(6, 9))
    assert traffic.clinic_open(at(0, 9).astimezone(dt.UTC))  # any time zone in, Shanghai hours used


def test_database_stop_fails_business_probes_and_raises_the_alert(tmp_path: Path) -> None:
    """Simulated HIS -> exporter -> Prometheus with rules: stop the database, watch the next scrape fail."""
    db_port, web_port, exporter_port = free_port(), free_port(), free_port()
    config = his_config(tmp_path, db_port, database="his")  # writes tmp_path/his-db-password
    web = f"http://127.0.0.1:{web_port}"
    simulated = [
        sys.executable, "-m", "demo.his.simulator",
        "--mariadb-dir", str(tmp_path / "mariadb"), "--mariadb-port", str(db_port),
        "--monitor-password-file", str(tmp_path / "his-db-password"),
        "--listen", f"127.0.0.1:{web_port}", "--seed", "7",
    ]  # fmt: skip
    exporter = [
        sys.executable, "-m", "exporters.his.main", f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{exporter_port}",
    ]  # fmt: skip
    scrape = {
        "job_name": "his",
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "metrics_path": "/probe",
        "params": {"module": ["business"], "target": ["his-db"]},
        "static_configs": [
            {"targets": [f"127.0.0.1:{exporter_port}"], "labels": {"ci": "his-db", "service": "his"}}
        ],
    }
    prom = {
        "global": {"evaluation_interval": "1s"},
        "rule_files": [str(REPO / "rules" / "emr.yml"), str(REPO / "rules" / "his.yml")],
        "scrape_configs": [scrape],
    }
    with (
        process(simulated, f"{web}/-/ready", tmp_path / "simulator.log"),
        process(exporter, f"http://127.0.0.1:{exporter_port}/-/healthy", tmp_path / "exporter.log"),
        prometheus(yaml.safe_dump(prom), tmp_path / "prometheus") as base,
    ):
        wait_for(
            lambda: promql(base, 'hospmon_probe_success{module="business"} == 1'), 30, "a successful scrape"
        )
        assert promql(base, 'count(hospmon_his_outpatient_registrations{ci="his-db"})')[0]["value"][1] == "4"
        with urllib.request.urlopen(f"{web}/his/api/health", timeout=5) as resp:
            assert json.loads(resp.read())["database"] == "UP"
        # The demo's monitoring account reads the business tables, never the patient table.
        account = pymysql.connect(
            host="127.0.0.1", port=db_port, user=MONITOR_USER, password=MONITOR_PASSWORD, database="his"
        )
        with account, account.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM registration")
            with pytest.raises(pymysql.err.OperationalError, match="1142"):
                cur.execute("SELECT COUNT(*) FROM patient")

        # The generator made up its patients (as root, the simulator's own account).
        owner = pymysql.connect(
            unix_socket=str(tmp_path / "mariadb" / "mysqld.sock"), user="root", database="his"
        )
        with owner, owner.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM patient")
            assert cur.fetchone()[0] >= 300

        request = urllib.request.Request(f"{web}/-/demo/database/stop", method="POST")
        with urllib.request.urlopen(request, timeout=60) as resp:
            assert resp.read() == b"database stopped\n"
        failed = wait_for(
            lambda: promql(base, 'hospmon_probe_failure{module="business",reason="unreachable"} == 1'),
            15,
            "the business probe failing with reason unreachable",
        )
        assert failed[0]["metric"]["ci"] == "his-db"
        assert promql(base, 'scrape_duration_seconds{job="his"} < 1')
        alert = wait_for(
            lambda: promql(base, 'ALERTS{alertname="ClinicalWebDown",ci="his-db",module="business"}'),
            15,
            "ClinicalWebDown pending for his-db",
        )
        assert alert[0]["metric"]["severity"] == "critical"

        # Back up: the pool drops its dead sessions and the next scrapes succeed again.
        request = urllib.request.Request(f"{web}/-/demo/database/start", method="POST")
        with urllib.request.urlopen(request, timeout=60) as resp:
            assert resp.read() == b"database running\n"
        wait_for(
            lambda: promql(base, 'hospmon_probe_success{module="business"} == 1'), 15, "the probe recovering"
        )

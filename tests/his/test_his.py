"""The HIS exporter against a real MariaDB holding the demo schema and a real HTTPS server; the canary."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.his.config import load_his_config
from exporters.his.main import HisExporter
from hospmon.config import ConfigError
from tests.database.servers import MariaDB
from tests.emr.fakeemr import CANARIES, FakeEmr
from tests.his.conftest import MONITOR_PASSWORD, has, his_config, probe, value

OUTPUTS: list[str] = []


def leaky(column: str, rule: dict[str, object]) -> dict[str, object]:
    """A sql module whose query tries to put a patient column into a label."""
    return {
        "kind": "sql",
        "queries": [
            {
                "name": f"by_{column}",
                "sql": f"SELECT {column} AS clinic, COUNT(*) AS n FROM patient GROUP BY {column}",
                "label_rules": {"clinic": rule},
                "metrics": [
                    {"name": "hospmon_his_leak", "help": "Leak.", "labels": ["clinic"], "values": ["n"]}
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def emr_tls(tls_cert: tuple[Path, Path]) -> Iterator[FakeEmr]:
    with FakeEmr(tls_cert) as server:
        yield server


@pytest.fixture(scope="module")
def exporter(
    tmp_path_factory: pytest.TempPathFactory, his_db: MariaDB, tls_cert: tuple[Path, Path]
) -> Iterator[RunningServer]:
    extra = {
        "web_tls": {"kind": "http", "http": {"path": "portal", "body_regex": ["Sign in"],
                                             "tls": {"ca_file": str(tls_cert[0])}}},
        "web_untrusted": {"kind": "http", "http": {"path": "portal"}},
        "leaky_name": leaky("name", {"pattern": "[a-z][a-z0-9-]{0,31}"}),
        "leaky_mrn": leaky("mrn", {"allow": ["internal-med", "surgery"]}),
        # Bounded patterns loose enough to let identifiers by: the PHI guard still refuses them.
        "leaky_id_number": leaky("id_number", {"pattern": "[0-9A-Za-z -]{1,40}"}),
        "leaky_phone": leaky("phone", {"pattern": "[0-9 +()-]{1,20}"}),
    }  # fmt: skip
    path = his_config(tmp_path_factory.mktemp("his"), his_db.port, extra=extra)
    with RunningServer(ExporterApp(HisExporter(), path), "127.0.0.1", 0) as server:
        yield server


def run(exporter: RunningServer, target: str, module: str, **params: str) -> str:
    body = probe(exporter.url, target, module, **params)
    OUTPUTS.append(body)
    return body


def test_business_queries_count_the_planted_rows(exporter: RunningServer) -> None:
    body = run(exporter, "his-db", "business")
    assert value(body, 'hospmon_probe_success{module="business"}') == 1
    assert value(body, 'hospmon_his_outpatient_registrations{clinic_type="general"}') == 4
    assert value(body, 'hospmon_his_outpatient_registrations{clinic_type="specialist"}') == 0
    assert value(body, 'hospmon_his_outpatient_registrations{clinic_type="expert"}') == 0
    assert value(body, 'hospmon_his_outpatient_registrations{clinic_type="emergency"}') == 1
    assert value(body, 'hospmon_his_waiting_patients{clinic="internal-med"}') == 3
    assert value(body, 'hospmon_his_waiting_patients{clinic="surgery"}') == 0
    assert 475 <= value(body, 'hospmon_his_longest_wait_seconds{clinic="internal-med"}') <= 600
    assert value(body, 'hospmon_his_longest_wait_seconds{clinic="pediatrics"}') == 0
    assert value(body, 'hospmon_his_prescriptions_awaiting_dispensing{pharmacy="op-western"}') == 2
    assert value(body, 'hospmon_his_prescriptions_awaiting_dispensing{pharmacy="op-tcm"}') == 0
    assert 2395 <= value(body, 'hospmon_his_prescription_oldest_wait_seconds{pharmacy="op-western"}') <= 2520
    assert value(body, 'hospmon_his_billing_transactions{result="ok"}') == 3
    assert value(body, 'hospmon_his_billing_transactions{result="failed"}') == 1
    for query in ("registrations", "waiting", "dispensing", "billing"):
        assert value(body, f'hospmon_his_query_success{{query="{query}"}}') == 1
        assert value(body, f'hospmon_his_query_result_age_seconds{{query="{query}"}}') == 0
    # One pooled session served the five queries, and stays for the next scrape.
    with urllib.request.urlopen(exporter.url + "/metrics", timeout=10) as resp:
        metrics = resp.read().decode()
    assert value(metrics, 'hospmon_db_pool_connections{target="his-db"}') == 1


def test_insurance_and_interfaces_by_host_port_and_account(exporter: RunningServer, his_db: MariaDB) -> None:
    target = f"127.0.0.1:{his_db.port}"
    body = run(exporter, target, "insurance", auth="his-monitor")
    assert value(body, 'hospmon_probe_success{module="insurance"}') == 1
    assert value(body, 'hospmon_his_insurance_settlements{result="success"}') == 2
    assert value(body, 'hospmon_his_insurance_settlements{result="failed"}') == 1
    assert value(body, 'hospmon_his_insurance_settlements{result="pending"}') == 1
    assert value(body, 'hospmon_his_insurance_settlement_duration_seconds{stat="avg"}') == pytest.approx(1.0)
    assert value(body, 'hospmon_his_insurance_settlement_duration_seconds{stat="max"}') == pytest.approx(1.5)
    body = run(exporter, target, "interfaces", auth="his-monitor")
    assert value(body, 'hospmon_his_interface_backlog_messages{channel="lis-orders"}') == 2
    assert value(body, 'hospmon_his_interface_backlog_messages{channel="emr-sync"}') == 0
    assert 695 <= value(body, 'hospmon_his_interface_oldest_message_seconds{channel="lis-orders"}') <= 800


def test_web_module_over_tls(exporter: RunningServer, emr_tls: FakeEmr) -> None:
    body = run(exporter, emr_tls.url(), "web_tls")
    assert value(body, 'hospmon_probe_success{module="web_tls"}') == 1
    assert value(body, 'hospmon_http_status_code{module="web_tls"}') == 200
    assert value(body, 'hospmon_http_phase_duration_seconds{module="web_tls",phase="tls"}') > 0
    assert value(body, 'hospmon_http_tls_cert_expiry_timestamp_seconds{module="web_tls"}') > 0
    body = run(exporter, emr_tls.url(), "web_untrusted")
    assert value(body, 'hospmon_probe_failure{module="web_untrusted",reason="auth"}') == 1


def test_kinds_take_their_own_targets(exporter: RunningServer, emr_tls: FakeEmr) -> None:
    assert "probe them separately" in run(exporter, "his-db", "business,web_tls")
    assert "http:// or https://" in run(exporter, "his-db", "web_tls")
    assert "neither a connection name" in run(exporter, "https://his.example", "business")


def test_patient_columns_never_become_labels(
    exporter: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for module in ("leaky_name", "leaky_mrn", "leaky_id_number", "leaky_phone"):
        body = run(exporter, "his-db", module)
        assert value(body, f'hospmon_probe_failure{{module="{module}",reason="check_failed"}}') == 1
        assert not has(body, 'hospmon_his_leak{clinic="internal-med"}')
    OUTPUTS.append(caplog.text)


def test_canaries_never_leave(
    exporter: RunningServer, his_db: MariaDB, emr_tls: FakeEmr, caplog: pytest.LogCaptureFixture
) -> None:
    """Planted name, MRN, ID number and phone: in no probe answer, /metrics, landing page or log line."""
    caplog.set_level(logging.DEBUG)
    for module in ("business", "insurance", "interfaces"):
        run(exporter, "his-db", module)
    run(exporter, emr_tls.url(), "web_tls")
    for path in ("/metrics", "/"):
        with urllib.request.urlopen(exporter.url + path, timeout=10) as resp:
            OUTPUTS.append(resp.read().decode())
    OUTPUTS.append(caplog.text)
    assert len(OUTPUTS) >= 10
    for text in OUTPUTS:
        for canary in CANARIES:
            assert canary not in text


def test_config_faults_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "his.yml"
    path.write_text(
        """
modules:
  web: {kind: http, queries: []}
  business: {kind: sql}
  billing:
    kind: sql
    http: {path: /x}
    queries: [{name: q, sql: "SELECT 1 AS v", metrics: [{name: m, help: h, values: [v]}]}]
  names:
    kind: sql
    queries:
      - name: q
        sql: SELECT name AS n, 1 AS v FROM patient
        metrics: [{name: m, help: h, labels: [n], values: [v]}]
"""
    )
    with pytest.raises(ConfigError) as error:
        load_his_config(path)
    text = str(error.value)
    assert "queries are only for sql modules" in text
    assert "a sql module needs queries" in text
    assert "http is only for http modules" in text
    assert "no patient identifier can become a label" in text
    path.write_text(
        """
database:
  auths: {mon: {user: hospmon, password_env: HOSPMON_TEST_UNSET_PASSWORD}}
  connections: {his-db: {engine: mysql, host: 127.0.0.1, auth: nobody}}
modules:
  pages: {kind: http, http: {auth: missing}}
"""
    )
    with pytest.raises(ConfigError) as error:
        load_his_config(path)
    text = str(error.value)
    assert "database.connections.his-db" in text and "no auth named 'nobody'" in text
    assert "unknown auth missing" in text
    # Once the references hold, the database password is read at load time.
    path.write_text(path.read_text().replace("auth: nobody", "auth: mon").replace("{auth: missing}", "{}"))
    with pytest.raises(ConfigError, match="HOSPMON_TEST_UNSET_PASSWORD is not set"):
        HisExporter().load_config(path)


def test_loaded_config_never_shows_its_passwords(tmp_path: Path) -> None:
    loaded = HisExporter().load_config(his_config(tmp_path, 3306))
    assert MONITOR_PASSWORD in loaded.passwords.values()
    assert MONITOR_PASSWORD not in repr(loaded)

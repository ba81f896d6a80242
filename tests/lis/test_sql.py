"""The shipped LIS queries (deploy/exporters/lis.yml) on the demo LIS schema in a private MariaDB."""

from __future__ import annotations

import contextlib
import gc
import random
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.lis.flow import LisFlow, lis_statements, seed_reference
from exporters.core.server import ExporterApp, RunningServer
from exporters.lis.main import LisExporter
from exporters.lis.main import main as lis_main
from tests.database.servers import MONITOR_PASSWORD, MONITOR_USER, MariaDB, mariadb_server
from tests.lis.test_mllp import probe
from tests.pacs.test_studies import value

REPO = Path(__file__).resolve().parent.parent.parent
NEVER_STAFFED = "NIGHT"  # a section whose hours (00:00-00:00) never hold: its analyzer is out of hours


def create_lis(cur: Any) -> None:
    """Create the demo LIS schema in database ``lis`` with its reference rows; the monitor may read it."""
    cur.execute("CREATE DATABASE lis CHARACTER SET utf8mb4")
    cur.execute(f"GRANT SELECT ON lis.* TO '{MONITOR_USER}'@'127.0.0.1'")
    cur.execute("USE lis")
    for statement in lis_statements():
        cur.execute(statement)
    seed_reference(cur)


@pytest.fixture(scope="module")
def lis_db() -> Iterator[MariaDB]:
    """MariaDB with the demo LIS schema and rows whose aggregates the tests know."""
    with contextlib.ExitStack() as stack:
        with warnings.catch_warnings():
            # The start-up helper's refused connects leave sockets in reference cycles: collect them here.
            warnings.simplefilter("ignore", ResourceWarning)
            server = stack.enter_context(mariadb_server())
            gc.collect()
        with server.admin() as conn, conn.cursor() as cur:
            create_lis(cur)
            night = (NEVER_STAFFED, "Night", "夜班", "00:00", "00:00", "0123456")
            cur.execute("INSERT INTO lab_section VALUES (%s, %s, %s, %s, %s, %s)", night)
            cur.execute(f"INSERT INTO analyzer VALUES ('NIGHT-1', '{NEVER_STAFFED}', 'Model', 'XN-LINK')")
            # section, priority, status, received (s ago), verified (s ago); TAT = received - verified
            rows = [
                ("CHEM", "STAT", "verified", 1000, 800),  # 200 s
                ("CHEM", "STAT", "verified", 1500, 1000),  # 500 s
                ("CHEM", "STAT", "verified", 5000, 1000),  # 4000 s
                ("CHEM", "STAT", "verified", 9000, 7000),  # verified two hours ago: outside the window
                ("HEMA", "ROUTINE", "received", 1800, None),
                ("HEMA", "ROUTINE", "resulted", 600, None),
            ]
            for i, (section, priority, status, received, verified) in enumerate(rows):
                cur.execute(
                    "INSERT INTO lab_order (sample_no, patient_id, section, priority, test_code, status,"
                    " ordered_at, received_at, verified_at) VALUES (%s, %s, %s, %s, 'T', %s,"
                    " NOW() - INTERVAL 3 HOUR, NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND)",
                    (f"S{i:08d}", f"110101199003074{i:03d}", section, priority, status, received, verified),
                )
            cur.execute(
                "INSERT INTO critical_value (order_id, detected_at, notified_at) VALUES"
                " (1, NOW() - INTERVAL 900 SECOND, NULL),"
                " (2, NOW() - INTERVAL 1500 SECOND, NOW() - INTERVAL 1200 SECOND)"
            )
            cur.execute(
                "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at) VALUES"
                " ('HIS-ORDERS', NULL, 'in', 'ORM^O01', NOW() - INTERVAL 60 SECOND),"
                " ('AU5800-LINK', 'CHEM-AU5800-1', 'in', 'ORU^R01', NOW() - INTERVAL 120 SECOND)"
            )
        yield server


@pytest.fixture
def lis_exporter(tmp_path: Path, lis_db: MariaDB) -> Iterator[RunningServer]:
    """Run the LIS exporter with the shipped config, pointed at the test database."""
    config = yaml.safe_load((REPO / "deploy" / "exporters" / "lis.yml").read_text(encoding="utf-8"))
    config["connections"]["lis-db"]["port"] = lis_db.port
    config["auths"]["lis-monitor"]["password_file"] = str(tmp_path / "pw")
    (tmp_path / "pw").write_text(MONITOR_PASSWORD)
    del config["inventory"]
    path = tmp_path / "lis.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    with RunningServer(ExporterApp(LisExporter(), path), "127.0.0.1", 0) as server:
        yield server


def db_time(lis_db: MariaDB) -> float:
    with lis_db.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT UNIX_TIMESTAMP(NOW())")
        return float(cur.fetchone()[0])


def test_lis_flow_metrics(lis_exporter: RunningServer, lis_db: MariaDB) -> None:
    status, body = probe(lis_exporter, "target=lis-db&module=lis_flow")
    assert status == 200
    assert 'hospmon_probe_success{module="lis_flow"} 1.0' in body, body
    for query in ("interfaces", "analyzers", "turnaround", "backlog", "critical_values"):
        assert value(body, f'hospmon_lis_query_success{{query="{query}"}}') == 1
    now = db_time(lis_db)
    last = value(body, 'hospmon_lis_interface_last_message_timestamp_seconds{interface="HIS-ORDERS"}')
    assert now - 70 < last <= now - 59
    chem = 'analyzer="CHEM-AU5800-1",section="CHEM"'
    assert (
        now - 130 < value(body, f"hospmon_lis_analyzer_last_message_timestamp_seconds{{{chem}}}") <= now - 119
    )
    assert value(body, f"hospmon_lis_analyzer_in_hours{{{chem}}}") == 1
    assert value(body, f'hospmon_lis_analyzer_in_hours{{analyzer="NIGHT-1",section="{NEVER_STAFFED}"}}') == 0

    stat = 'priority="STAT",section="CHEM"'
    buckets = {"300": 1, "600": 2, "3600": 2, "5400": 3, "+Inf": 3}
    for le, count in buckets.items():
        assert value(body, f'hospmon_lis_turnaround_seconds_bucket{{{stat},le="{le}"}}') == count, le
    assert value(body, f"hospmon_lis_turnaround_seconds_count{{{stat}}}") == 3
    assert value(body, f"hospmon_lis_turnaround_seconds_sum{{{stat}}}") == 4700

    hema = 'priority="ROUTINE",section="HEMA"'
    assert value(body, f"hospmon_lis_pending_results{{{hema}}}") == 2
    assert 1795 < value(body, f"hospmon_lis_pending_oldest_age_seconds{{{hema}}}") < 1830
    assert value(body, 'hospmon_lis_pending_results{priority="STAT",section="MICRO"}') == 0

    assert value(body, 'hospmon_lis_critical_values_pending{section="CHEM"}') == 1
    assert 895 < value(body, 'hospmon_lis_critical_value_oldest_pending_seconds{section="CHEM"}') < 930
    assert value(body, 'hospmon_lis_critical_values_notified{section="CHEM"}') == 1
    assert value(body, 'hospmon_lis_critical_value_notify_delay_max_seconds{section="CHEM"}') == 300
    assert value(body, 'hospmon_lis_critical_values_pending{section="HEMA"}') == 0
    # Sample numbers and patient identifiers stay in the database.
    assert "S0000" not in body and "1101011990" not in body


def test_sql_targets_must_be_connections(lis_exporter: RunningServer) -> None:
    assert probe(lis_exporter, "target=127.0.0.1:3306&module=lis_flow")[0] == 400
    assert probe(lis_exporter, "target=lis-db&module=mllp")[0] == 400
    assert probe(lis_exporter, "target=lis-db&module=mllp,lis_flow")[0] == 400


def test_demo_flow_keeps_the_queries_working(lis_exporter: RunningServer, lis_db: MariaDB) -> None:
    flow = LisFlow(random.Random(7))
    with lis_db.admin("lis") as conn, conn.cursor() as cur:
        flow.seed(cur, hours=0.5)
        flow.tick(cur, 20)
    _, body = probe(lis_exporter, "target=lis-db&module=lis_flow")
    assert 'hospmon_probe_success{module="lis_flow"} 1.0' in body
    assert "hospmon_lis_query_failure{" not in body, body


def test_sql_config_faults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "lis.yml"
    bad.write_text(
        "connections:\n  lis-db: {engine: mysql, host: 127.0.0.1, auth: nobody}\n"
        "modules:\n"
        "  flow:\n"
        "    prober: sql\n"
        "    queries:\n"
        "      - {name: q, sql: 'SELECT sample_no, 1 AS n FROM lab_order',\n"
        "         metrics: [{name: hospmon_lis_x, help: x, labels: [sample_no], values: [n]}]}\n"
    )
    assert lis_main(["--config.file", str(bad), "--check-config"]) == 1
    err = capsys.readouterr().err
    assert "label_rules" in err  # a label column without a rule is refused before any query runs
    bad.write_text(
        "connections:\n  lis-db: {engine: mysql, host: 127.0.0.1, auth: nobody}\nmodules:\n  mllp: {}\n"
    )
    assert lis_main(["--config.file", str(bad), "--check-config"]) == 1
    assert "no auth named 'nobody'" in capsys.readouterr().err

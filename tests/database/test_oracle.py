"""Oracle: the collectors and error mapping run on recorded rows; live tests need ORACLE_DSN."""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal

import pytest
from prometheus_client.metrics_core import Metric

from exporters.core.probe import Deadline
from exporters.database.config import HealthSpec
from exporters.database.drivers import Target
from exporters.database.drivers.oracle import classify_code
from exporters.database.engine import SqlEngine
from exporters.database.health import oracle as ora
from exporters.database.health import run_health
from exporters.database.health.common import interval_seconds
from tests.database.conftest import samples, value
from tests.database.helpers import RecordedSession
from tests.database.servers import free_port

RECORDED: dict[str, list[tuple[object, ...]]] = {
    "FROM v$instance": [("19.0.0.0.0", Decimal("86400.5"), "PHYSICAL STANDBY", "READ ONLY WITH APPLY", 1520)],
    "FROM v$session": [("ACTIVE", 700, None, "User I/O"), ("INACTIVE", 5, None, "Idle"),
                       ("ACTIVE", 12, 45, "Application")],
    "FROM v$transaction": [(Decimal("30.0"),), (Decimal("4000"),)],
    "FROM v$sysstat": [("user commits", 100), ("user rollbacks", 2), ("execute count", 5000),
                       ("session logical reads", 1000), ("physical reads", 50), ("enqueue deadlocks", 1),
                       ("enqueue waits", 7)],
    "FROM v$system_wait_class": [("User I/O", 10, 2_500_000), ("Concurrency", 3, 1000)],
    "FROM v$dataguard_stats": [("transport lag", "+00 00:00:02"), ("apply lag", "+00 00:01:05")],
    "FROM v$archive_dest": [("LOG_ARCHIVE_DEST_1", "VALID"), ("LOG_ARCHIVE_DEST_2", "ERROR")],
    "FROM dba_tablespace_usage_metrics": [("USERS", 8192 * 10, 8192 * 100)],
    "FROM v$recovery_file_dest": [(10_000, 9_000, 1_000)],
}  # fmt: skip


def test_oracle_collectors_on_recorded_rows() -> None:
    session = RecordedSession("oracle", "19.0.0.0.0", RECORDED)
    metrics: list[Metric] = []
    for collector in ora.COLLECTORS:
        metrics.extend(collector.collect(session, HealthSpec()))  # type: ignore[arg-type]
    assert (
        value(metrics, "hospmon_db_version_info", engine="oracle", flavor="oracle", version="19.0.0.0.0") == 1
    )
    assert value(metrics, "hospmon_db_replication_is_replica") == 1
    assert value(metrics, "hospmon_db_connections_max") == 1520
    assert value(metrics, "hospmon_db_active_sessions") == 2
    assert value(metrics, "hospmon_db_long_queries", over_seconds="300") == 1
    assert value(metrics, "hospmon_db_blocked_sessions", lock="Application") == 1
    assert value(metrics, "hospmon_db_oldest_transaction_seconds") == 4000
    assert value(metrics, "hospmon_db_transactions_total", result="commit") == 100
    assert value(metrics, "hospmon_db_cache_hit_ratio") == pytest.approx(0.95)
    assert value(metrics, "hospmon_db_wait_seconds_total", wait_class="User I/O") == 2.5
    assert value(metrics, "hospmon_db_replication_lag_seconds", channel="dataguard_apply") == 65
    assert value(metrics, "hospmon_db_archive_dest_error", dest="LOG_ARCHIVE_DEST_2") == 1
    assert value(metrics, "hospmon_db_tablespace_max_bytes", tablespace="USERS") == 819200
    assert value(metrics, "hospmon_db_recovery_dest_used_bytes") == 9000
    # Every statement is a read of a dictionary view, never of application tables.
    assert all(" FROM v$" in s or " FROM dba_" in s for s in session.statements)


def test_oracle_interval_and_error_mapping() -> None:
    assert interval_seconds("+01 02:03:04.5") == 86400 + 7384.5
    assert interval_seconds(None) is None and interval_seconds("garbage") is None
    assert classify_code("ORA-01017", "invalid username/password").reason == "auth"
    assert classify_code("DPY-4024", "call timeout of 1000 ms exceeded").reason == "timeout"
    assert classify_code("ORA-00942", "table or view does not exist").reason == "config"
    assert classify_code("DPY-6005", "cannot connect").reason == "unreachable"
    assert classify_code("ORA-12541", "no listener").reason == "unreachable"


def test_oracle_unreachable_fails_with_reason_within_deadline() -> None:
    """The thin driver's connect path runs for real against a port where nothing listens."""
    target = Target("ora", "oracle", "127.0.0.1", free_port(), "ORCLPDB1", "hospmon", "pw", connect_timeout=1)
    engine = SqlEngine()
    start = datetime.now()
    with pytest.raises(Exception) as err:
        run_health(engine, target, HealthSpec(), Deadline.after(3))
    assert getattr(err.value, "reason", None) == "unreachable"
    assert (datetime.now() - start).total_seconds() < 3
    engine.close()


@pytest.mark.skipif(
    not os.environ.get("ORACLE_DSN"), reason="ORACLE_DSN is not set: no Oracle server to test"
)
def test_oracle_live_health() -> None:
    """Against a real Oracle: ORACLE_DSN=host:port/service, ORACLE_USER, ORACLE_PASSWORD."""
    dsn = os.environ["ORACLE_DSN"]
    hostport, _, service = dsn.partition("/")
    host, _, port = hostport.rpartition(":")
    target = Target("ora", "oracle", host, int(port), service, os.environ.get("ORACLE_USER", "hospmon"),
                    os.environ.get("ORACLE_PASSWORD", ""))  # fmt: skip
    engine = SqlEngine()
    try:
        metrics = run_health(engine, target, HealthSpec(), Deadline.after(10))
    finally:
        engine.close()
    flat = samples(metrics)
    assert flat[("hospmon_db_up", ())] == 1
    assert not [k for k, v in flat.items() if k[0] == "hospmon_db_collector_success" and v == 0]

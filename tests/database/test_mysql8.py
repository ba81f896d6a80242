"""MySQL 8 paths (no Debian 12 package to test them live): the collectors on rows recorded from MySQL 8.0."""

from __future__ import annotations

from prometheus_client.metrics_core import Metric

from exporters.database.config import HealthSpec
from exporters.database.drivers import Result
from exporters.database.health import mysql
from tests.database.conftest import value
from tests.database.helpers import RecordedSession

STATUS: list[tuple[object, ...]] = [
    ("Uptime", "3600"), ("Threads_connected", "12"), ("Threads_running", "3"), ("Questions", "5000"),
    ("Innodb_buffer_pool_read_requests", "1000"), ("Innodb_buffer_pool_reads", "10"),
]  # fmt: skip
REPLICA = Result(
    ("Replica_IO_State", "Source_Host", "Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source",
     "Channel_Name"),
    [("Waiting for source to send event", "10.0.0.1", "Yes", "No", None, "")],
)  # fmt: skip
RECORDED: dict[str, Result | list[tuple[object, ...]]] = {
    "SELECT VERSION()": [("8.0.36", 500, 1)],
    "SHOW GLOBAL STATUS": STATUS,
    "INNODB_METRICS": [(7,)],
    "PROCESSLIST": [
        ("Query", 75, "executing"),
        ("Sleep", 900, ""),
        ("Query", 3, "Waiting for table metadata lock"),
    ],
    "INNODB_TRX": [(400, 1, 20), (10, 0, 0)],
    "SHOW REPLICA STATUS": REPLICA,
    "INNODB_TABLESPACES": [
        ("his/patients", 98304, 65536),
        ("his/visits", 1000, 2000),
        ("innodb_system", 10, 10),
    ],
}


def test_mysql8_collectors() -> None:
    session = RecordedSession("mysql", "8.0.36", RECORDED)
    metrics: list[Metric] = []
    for collector in mysql.COLLECTORS:
        metrics.extend(collector.collect(session, HealthSpec()))  # type: ignore[arg-type]
    assert value(metrics, "hospmon_db_version_info", engine="mysql", flavor="mysql", version="8.0.36") == 1
    assert value(metrics, "hospmon_db_read_only") == 1
    assert (
        value(metrics, "hospmon_db_deadlocks_total") == 7
    )  # from INNODB_METRICS: MySQL has no status variable
    assert value(metrics, "hospmon_db_cache_hit_ratio") == 0.99
    assert value(metrics, "hospmon_db_long_queries", over_seconds="60") == 1
    assert value(metrics, "hospmon_db_blocked_sessions", lock="metadata") == 1
    assert value(metrics, "hospmon_db_blocked_sessions", lock="row") == 1
    assert value(metrics, "hospmon_db_oldest_lock_wait_seconds") == 20
    assert value(metrics, "hospmon_db_replication_is_replica") == 1
    assert value(metrics, "hospmon_db_replication_running", channel="default", thread="io") == 1
    assert value(metrics, "hospmon_db_replication_running", channel="default", thread="sql") == 0
    assert value(metrics, "hospmon_db_database_size_bytes", database="his") == 65536 + 2000
    assert any("SHOW REPLICA STATUS" in s for s in session.statements)
    assert any("information_schema.INNODB_TABLESPACES" in s for s in session.statements)


def test_old_mysql_uses_the_old_statements() -> None:
    assert mysql.version_tuple("5.7.44-log") == (5, 7, 44)
    recorded = dict(RECORDED)
    recorded["SHOW SLAVE STATUS"] = Result(("Slave_IO_Running",), [])
    recorded["INNODB_SYS_TABLESPACES"] = [("his/patients", 1, 1)]
    session = RecordedSession("mysql", "5.7.44-log", recorded)
    list(mysql.collect_replication(session, HealthSpec()))  # type: ignore[arg-type]
    list(mysql.collect_sizes(session, HealthSpec()))  # type: ignore[arg-type]
    assert session.statements == [
        "SHOW SLAVE STATUS",
        "SELECT NAME, FILE_SIZE, ALLOCATED_SIZE FROM information_schema.INNODB_SYS_TABLESPACES",
    ]

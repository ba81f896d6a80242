"""Health collectors checked against the servers' own views, and a frozen server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exporters.core.probe import Deadline, ProbeFailed, ProbeRequest
from exporters.database.exporter import DatabaseExporter, LoadedConfig
from tests.database.conftest import value
from tests.database.helpers import Admin, eventually
from tests.database.servers import MariaDB, Postgres
from tests.servers import LATE, frozen

EXPORTER = DatabaseExporter()


@pytest.fixture
def config(exporter_config: Callable[[str], LoadedConfig]) -> LoadedConfig:
    return exporter_config("  {}")


def health(config: LoadedConfig, target: str, seconds: float = 5.0) -> list[object]:
    request = ProbeRequest(target, ("health",))
    return list(EXPORTER.probe_module(config, request, "health", Deadline.after(seconds)))


def test_mariadb_health_matches_the_server(config: LoadedConfig, mariadb: MariaDB) -> None:
    admin = Admin("mysql", mariadb)
    metrics = health(config, "maria")
    assert value(metrics, "hospmon_db_up") == 1
    version = admin.scalar("SELECT VERSION()")
    assert value(metrics, "hospmon_db_version_info", engine="mysql", flavor="mariadb", version=version) == 1
    assert value(metrics, "hospmon_db_connections_max") == admin.scalar("SELECT @@max_connections")
    uptime = int(
        admin.scalar(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='UPTIME'"
        )
    )
    assert abs(value(metrics, "hospmon_db_uptime_seconds") - uptime) <= 2
    his = admin.scalar(
        "SELECT SUM(ALLOCATED_SIZE) FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE 'his/%'"
    )
    assert value(metrics, "hospmon_db_database_size_bytes", database="his") == his
    assert value(metrics, "hospmon_db_replication_is_replica") == 0
    connected = admin.scalar(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
        " WHERE VARIABLE_NAME = 'THREADS_CONNECTED'"
    )
    assert value(metrics, "hospmon_db_connections") == int(connected) - 1  # less the admin's own session
    for collector in ("info", "status", "activity", "replication", "sizes"):
        assert value(metrics, "hospmon_db_collector_success", collector=collector) == 1


def test_postgres_health_matches_the_server(config: LoadedConfig, postgres: Postgres) -> None:
    admin = Admin("postgres", postgres)
    metrics = health(config, "pg")
    assert value(metrics, "hospmon_db_up") == 1
    version = admin.scalar("SHOW server_version").split()[0]
    assert (
        value(metrics, "hospmon_db_version_info", engine="postgres", flavor="postgres", version=version) == 1
    )
    limit = admin.scalar(
        "SELECT current_setting('max_connections')::int"
        " - current_setting('superuser_reserved_connections')::int"
    )
    assert value(metrics, "hospmon_db_connections_max") == limit
    assert value(metrics, "hospmon_db_database_size_bytes", database="his") == admin.scalar(
        "SELECT pg_database_size('his')"
    )
    assert value(metrics, "hospmon_db_replication_is_replica") == 0
    # The admin's own session is the one more it sees (the exporter's stays open in the pool).
    clients = admin.scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
    assert value(metrics, "hospmon_db_connections") == clients - 1
    calls = admin.scalar("SELECT sum(calls) FROM pg_stat_statements")
    assert 0 < value(metrics, "hospmon_db_queries_total") <= calls  # from pg_stat_statements, installed here
    commits = admin.scalar("SELECT sum(xact_commit) FROM pg_stat_database")
    assert 0 < value(metrics, "hospmon_db_transactions_total", result="commit") <= commits
    for collector in ("info", "activity", "database", "replication", "sizes"):
        assert value(metrics, "hospmon_db_collector_success", collector=collector) == 1


@pytest.fixture(params=["maria", "pg"])
def contention(
    request: pytest.FixtureRequest, mariadb: MariaDB, postgres: Postgres
) -> Iterator[tuple[str, Admin]]:
    """One admin transaction holds a row lock; a second waits for it."""
    name = str(request.param)
    admin = Admin("mysql", mariadb) if name == "maria" else Admin("postgres", postgres)
    holder, waiter = admin.connect(), admin.connect()
    update = "UPDATE patients SET clinic = 'general' WHERE id = 1"
    if name == "maria":
        holder.begin()
        holder.cursor().execute(update)
        waiter.cursor().execute("SET SESSION innodb_lock_wait_timeout = 20")
        blocked = threading.Thread(target=lambda: _quiet(lambda: waiter.cursor().execute(update)))
        waits = "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
    else:
        holder.autocommit = False
        holder.execute(update)
        waiter.execute("SET lock_timeout = '20s'")
        blocked = threading.Thread(target=lambda: _quiet(lambda: waiter.execute(update)))
        waits = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    blocked.start()
    try:
        assert eventually(lambda: admin.scalar(waits) == 1)
        time.sleep(1.1)  # let the transaction age past one second
        yield name, admin
    finally:
        holder.rollback()
        blocked.join()
        holder.close()
        waiter.close()


def _quiet(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        return


def test_blocked_sessions_and_long_transactions(config: LoadedConfig, contention: tuple[str, Admin]) -> None:
    name, admin = contention
    metrics = health(config, name)
    if name == "maria":
        assert value(metrics, "hospmon_db_blocked_sessions", lock="row") == 1
        assert value(metrics, "hospmon_db_open_transactions") == admin.scalar(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX"
        )
        assert value(metrics, "hospmon_db_oldest_lock_wait_seconds") >= 1
    else:
        assert value(metrics, "hospmon_db_blocked_sessions", lock="transactionid") == 1
        assert value(metrics, "hospmon_db_waiting_locks") == admin.scalar(
            "SELECT count(*) FROM pg_locks WHERE NOT granted"
        )
    assert value(metrics, "hospmon_db_oldest_transaction_seconds") >= 1
    assert value(metrics, "hospmon_db_long_transactions", over_seconds="10") == 0


def _server_pids(name: str, mariadb: MariaDB, postgres: Postgres) -> list[int]:
    if name == "maria":
        return [mariadb.proc.pid]
    postmaster = int((postgres.data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children_of(postmaster)]


def children_of(pid: int) -> list[int]:
    """Return the processes whose parent is `pid`, from /proc (no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("name", ["maria", "pg"])
def test_frozen_server_returns_within_deadline_and_leaves_no_session(
    config: LoadedConfig, name: str, mariadb: MariaDB, postgres: Postgres
) -> None:
    """SIGSTOP the server so every statement hangs, even the server-side timeouts: the watchdog acts."""
    admin = Admin("mysql", mariadb) if name == "maria" else Admin("postgres", postgres)
    health(config, name)  # leaves an idle pooled session, which the next probe reuses
    pids = _server_pids(name, mariadb, postgres)
    outcome: list[object] = []

    def scrape() -> None:
        start = time.monotonic()
        try:
            health(config, name, seconds=2)
        except ProbeFailed as exc:
            outcome.append(exc.reason)
        outcome.append(time.monotonic() - start)

    runuser = [postgres.proc.pid] if name == "pg" else []  # it stops itself when its child stops: resume it
    with frozen(*pids, *runuser):
        scraper = threading.Thread(target=scrape, daemon=True)
        scraper.start()
        scraper.join(10)  # resume the server whatever happens, so a failure cannot leave it stopped
    assert len(outcome) == 2, outcome
    assert outcome[0] == "timeout"
    assert isinstance(outcome[1], float) and outcome[1] < 2.0 + LATE, outcome
    assert eventually(lambda: admin.monitor_sessions(running_only=True) == 0, seconds=3)
    pool = config.engine.pool(config.targets[name])
    assert pool.peak_open <= 2


@pytest.mark.parametrize("name", ["maria", "pg"])
def test_long_running_statement_is_counted(
    exporter_config: Callable[[str], LoadedConfig], name: str, mariadb: MariaDB, postgres: Postgres
) -> None:
    config = exporter_config("  {}\nhealth:\n  long_query_seconds: [1, 3600]\n")
    admin = Admin("mysql", mariadb) if name == "maria" else Admin("postgres", postgres)
    sleeper = threading.Thread(
        target=admin.execute, args=("SELECT SLEEP(2.5)" if name == "maria" else "SELECT pg_sleep(2.5)",)
    )
    sleeper.start()
    try:
        time.sleep(1.2)  # the statement must be older than the 1 s threshold
        metrics = health(config, name)
    finally:
        sleeper.join()
    assert value(metrics, "hospmon_db_long_queries", over_seconds="1") == 1
    assert value(metrics, "hospmon_db_long_queries", over_seconds="3600") == 0
    assert value(metrics, "hospmon_db_oldest_query_seconds") >= 1
    assert value(metrics, "hospmon_db_active_sessions") >= 1


def test_slow_queries_counter_matches_the_server(config: LoadedConfig, mariadb: MariaDB) -> None:
    admin = Admin("mysql", mariadb)
    admin.execute("SELECT SLEEP(0.6)")  # the test server logs statements slower than 0.5 s
    metrics = health(config, "maria")
    slow = admin.scalar(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLOW_QUERIES'"
    )
    assert value(metrics, "hospmon_db_slow_queries_total") == int(slow) >= 1

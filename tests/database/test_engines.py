"""The exporter against real MariaDB and PostgreSQL: failures, hangs, the guard, the pool, read-only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from exporters.core.probe import Deadline, ProbeFailed, ProbeRequest
from exporters.database.drivers import QueryError
from exporters.database.engine import SqlEngine
from exporters.database.exporter import DatabaseExporter, LoadedConfig
from tests.database.conftest import make_target, samples, value
from tests.database.helpers import Admin, eventually
from tests.database.servers import MariaDB, Postgres
from tests.servers import LATE

EXPORTER = DatabaseExporter()
SLEEP = '{mysql: "SELECT SLEEP(30) AS s", postgres: "SELECT 1 AS s FROM pg_sleep(30)"}'

MODULES = f"""
  custom:
    queries:
      - name: by_clinic
        sql: SELECT clinic, COUNT(*) AS n FROM patients GROUP BY clinic
        label_rules: {{clinic: {{allow: [general, specialist]}}}}
        metrics: [{{name: hospmon_test_patients, help: Patients by clinic., labels: [clinic], values: [n]}}]
      - name: broken
        sql: SELECT FROM WHERE 1
        metrics: [{{name: hospmon_test_broken, help: Never., values: [x]}}]
      - name: cached
        sql: SELECT 42 AS answer
        min_interval: 300
        metrics: [{{name: hospmon_test_answer, help: The answer., values: [answer]}}]
  custom_twin:
    queries:
      - name: cached_twin
        sql: SELECT 'twin' AS copy, 43 AS answer
        min_interval: 300
        label_rules: {{copy: {{allow: [twin]}}}}
        metrics: [{{name: hospmon_test_answer_by_copy, help: The answer., labels: [copy], values: [answer]}}]
  custom_first:
    queries:
      - name: cached_first
        sql: SELECT 'first' AS copy, 42 AS answer
        min_interval: 300
        label_rules: {{copy: {{allow: [first]}}}}
        metrics: [{{name: hospmon_test_answer_by_copy, help: The answer., labels: [copy], values: [answer]}}]
  leak:
    queries:
      - name: by_id_number
        sql: SELECT id_number, COUNT(*) AS n FROM patients GROUP BY id_number
        label_rules: {{id_number: {{pattern: "[0-9A-Za-z -]{{1,40}}"}}}}
        metrics: [{{name: hospmon_test_by_id, help: Never., labels: [id_number], values: [n]}}]
      - name: by_name
        sql: SELECT name, COUNT(*) AS n FROM patients GROUP BY name
        label_rules: {{name: {{pattern: "[a-z_]{{1,32}}"}}}}
        metrics: [{{name: hospmon_test_by_name, help: Never., labels: [name], values: [n]}}]
  sleepy:
    queries:
      - name: sleep
        sql: {SLEEP}
        timeout: 1
        metrics: [{{name: hospmon_test_sleep, help: Never., values: [s]}}]
      - name: after_sleep
        sql: SELECT 1 AS one
        metrics: [{{name: hospmon_test_one, help: One., values: [one]}}]
  locked:
    queries:
      - name: locked
        sql: SELECT COUNT(*) AS n FROM patients
        timeout: 1
        metrics: [{{name: hospmon_test_locked, help: Never., values: [n]}}]
  all_hang:
    queries:
""" + "".join(
    f"""      - name: hang{i}
        sql: {SLEEP}
        timeout: 30
        metrics: [{{name: hospmon_test_hang{i}, help: Never., values: [s]}}]
"""
    for i in range(20)
)

ENGINES = ["maria", "pg"]


@pytest.fixture(params=ENGINES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def admin(name: str, mariadb: MariaDB, postgres: Postgres) -> Admin:
    return Admin("mysql" if name == "maria" else "postgres", mariadb if name == "maria" else postgres)


@pytest.fixture
def config(exporter_config: Callable[[str], LoadedConfig]) -> LoadedConfig:
    return exporter_config(MODULES)


def probe(config: LoadedConfig, target: str, module: str, seconds: float = 5.0) -> list[object]:
    request = ProbeRequest(target, (module,))
    EXPORTER.check_request(config, request)
    return list(EXPORTER.probe_module(config, request, module, Deadline.after(seconds)))


def test_wrong_password_fails_with_auth(config: LoadedConfig, name: str) -> None:
    with pytest.raises(ProbeFailed) as err:
        probe(config, f"{name}-wrong", "health")
    assert err.value.reason == "auth"
    assert "not-the-password" not in err.value.detail


def test_database_down_fails_fast_with_unreachable(config: LoadedConfig) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeFailed) as err:
        probe(config, "nothing-there", "health", seconds=3)
    assert err.value.reason == "unreachable"
    assert time.monotonic() - start < 3


def test_syntax_error_fails_only_that_query(config: LoadedConfig, name: str) -> None:
    metrics = probe(config, name, "custom")
    assert value(metrics, "hospmon_test_patients", clinic="general") == 2
    assert value(metrics, "hospmon_db_query_success", query="broken") == 0
    assert value(metrics, "hospmon_db_query_failure", query="broken", reason="config") == 1
    assert value(metrics, "hospmon_db_query_success", query="by_clinic") == 1
    assert value(metrics, "hospmon_db_query_rows", query="by_clinic") == 2


def test_min_interval_serves_cached_result_with_its_age(config: LoadedConfig, name: str) -> None:
    probe(config, name, "custom")
    metrics = probe(config, name, "custom")
    assert value(metrics, "hospmon_test_answer") == 42
    assert value(metrics, "hospmon_db_query_result_age_seconds", query="cached") > 0
    assert value(metrics, "hospmon_db_query_result_age_seconds", query="by_clinic") == 0


def test_patient_identifiers_never_become_labels(config: LoadedConfig, name: str) -> None:
    with pytest.raises(ProbeFailed) as err:
        probe(config, name, "leak")
    assert err.value.reason == "check_failed"
    assert "rule resident_id" in err.value.detail
    assert "1101011990" not in err.value.detail and "Zhang" not in err.value.detail


def test_monitoring_account_cannot_write(config: LoadedConfig, name: str, admin: Admin) -> None:
    target = config.targets[name]
    with config.engine.session(target, Deadline.after(5)) as session:
        for sql in (
            "INSERT INTO scratch VALUES (1)",  # granted, yet refused: the session is read-only
            "UPDATE patients SET clinic = 'x'",
            "CREATE TABLE evil (x int)",
        ):
            with pytest.raises(QueryError) as err:
                session.query(sql)
            assert err.value.reason == "config", sql
    assert admin.scalar("SELECT COUNT(*) FROM scratch") == 0
    assert admin.scalar("SELECT COUNT(*) FROM patients WHERE clinic = 'x'") == 0


def test_sleep_times_out_on_the_server_and_the_next_query_runs(
    config: LoadedConfig, name: str, admin: Admin
) -> None:
    start = time.monotonic()
    metrics = probe(config, name, "sleepy")
    assert time.monotonic() - start < 2.0
    assert value(metrics, "hospmon_db_query_failure", query="sleep", reason="timeout") == 1
    assert value(metrics, "hospmon_test_one") == 1
    assert admin.monitor_sessions(running_only=True) == 0


def test_held_lock_times_out_and_leaves_no_session(config: LoadedConfig, name: str, admin: Admin) -> None:
    holder = admin.connect()
    try:
        if name == "maria":
            with holder.cursor() as cur:
                cur.execute("LOCK TABLES patients WRITE")
        else:
            holder.autocommit = False
            holder.execute("LOCK TABLE patients IN ACCESS EXCLUSIVE MODE")
        start = time.monotonic()
        with pytest.raises(ProbeFailed) as err:
            probe(config, name, "locked")
        assert err.value.reason == "timeout"
        assert time.monotonic() - start < 2.0
        assert admin.monitor_sessions(running_only=True) == 0
        assert eventually(lambda: admin.monitor_sessions(running_only=False) == 0, seconds=2)
    finally:
        holder.close()


def test_every_query_hangs_returns_within_deadline(config: LoadedConfig, name: str, admin: Admin) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeFailed) as err:
        probe(config, name, "all_hang", seconds=3)
    elapsed = time.monotonic() - start
    assert err.value.reason == "timeout"
    assert elapsed < 3.0 + LATE, elapsed  # not the 30 s the statements ask for
    assert admin.monitor_sessions(running_only=True) == 0
    # Not even an idle one: a session whose statement timed out is closed, never pooled.
    assert eventually(lambda: admin.monitor_sessions(running_only=False) == 0)


def test_pool_is_never_exceeded_and_scrapes_do_not_pile_up(
    config: LoadedConfig, name: str, admin: Admin
) -> None:
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, admin.monitor_sessions(running_only=False))

    sampler = threading.Thread(target=sample)
    sampler.start()
    outcomes: list[str] = []

    def scrape() -> None:
        try:
            probe(config, name, "sleepy", seconds=2.5)
            outcomes.append("ok")
        except ProbeFailed as exc:
            outcomes.append(exc.reason)

    start = time.monotonic()
    scrapes = [threading.Thread(target=scrape) for _ in range(6)]
    for t in scrapes:
        t.start()
    for t in scrapes:
        t.join()
    elapsed = time.monotonic() - start
    stop.set()
    sampler.join()
    pool = config.engine.pool(config.targets[name])
    assert pool.peak_open <= 2 and peak <= 2, (pool.peak_open, peak)
    assert elapsed < 2.5 + LATE, elapsed  # every scrape ended at its deadline, none waited behind it
    assert len(outcomes) == 6 and "timeout" in outcomes  # the surplus scrapes gave up, they did not queue


def test_idle_connection_closed_by_server_is_replaced(config: LoadedConfig, name: str, admin: Admin) -> None:
    probe(config, name, "custom")
    if name == "maria":
        ids = admin.scalar(
            "SELECT GROUP_CONCAT(ID) FROM information_schema.PROCESSLIST WHERE USER = 'hospmon'"
        )
        for thread_id in str(ids).split(","):
            admin.execute(f"KILL {thread_id}")
    else:
        admin.scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'hospmon'"
        )
    assert eventually(lambda: admin.monitor_sessions(running_only=False) == 0)
    metrics = probe(config, name, "custom")
    assert value(metrics, "hospmon_db_query_success", query="by_clinic") == 1
    assert samples(metrics)


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_tls_modes(engine: str, mariadb: MariaDB, postgres: Postgres) -> None:
    """The test servers offer no TLS: preferred and disable connect, require fails with config."""
    port = mariadb.port if engine == "mysql" else postgres.port
    sql = SqlEngine()
    try:
        for mode in ("disable", "preferred"):
            with sql.session(make_target(engine, port, tls=mode), Deadline.after(5)) as session:
                assert session.query("SELECT 1").rows == [(1,)]
        with sql.session(make_target(engine, port, tls="require"), Deadline.after(5)) as session:
            with pytest.raises(QueryError) as err:
                session.query("SELECT 1")
            assert err.value.reason == "config" and "TLS" in err.value.detail
    finally:
        sql.close()

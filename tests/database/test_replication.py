"""Replication role and lag against a real MariaDB replica and a real PostgreSQL streaming standby."""

from __future__ import annotations

import pytest

from exporters.core.probe import Deadline
from exporters.database.config import HealthSpec
from exporters.database.engine import SqlEngine
from exporters.database.health import run_health
from tests.database.conftest import make_target, samples, value
from tests.database.helpers import Admin, eventually
from tests.database.servers import MariaDB, Postgres


def health(engine: str, port: int) -> list[object]:
    sql = SqlEngine()
    try:
        return list(run_health(sql, make_target(engine, port), HealthSpec(), Deadline.after(5)))
    finally:
        sql.close()


def test_mariadb_replica_role_threads_and_lag(mariadb: MariaDB, mariadb_replica: MariaDB) -> None:
    admin = Admin("mysql", mariadb_replica)
    assert value(health("mysql", mariadb.port), "hospmon_db_replication_is_replica") == 0
    metrics = health("mysql", mariadb_replica.port)
    assert value(metrics, "hospmon_db_replication_is_replica") == 1
    assert value(metrics, "hospmon_db_replication_running", channel="default", thread="io") == 1
    assert value(metrics, "hospmon_db_replication_running", channel="default", thread="sql") == 1
    with admin.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW ALL SLAVES STATUS")
        row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    assert (
        value(metrics, "hospmon_db_replication_lag_seconds", channel="default")
        == row["Seconds_Behind_Master"]
    )
    admin.execute("STOP SLAVE SQL_THREAD")
    try:
        metrics = health("mysql", mariadb_replica.port)
        assert value(metrics, "hospmon_db_replication_running", channel="default", thread="sql") == 0
        # With the SQL thread stopped the server reports no lag (NULL): no sample rather than a false 0.
        assert ("hospmon_db_replication_lag_seconds", (("channel", "default"),)) not in samples(metrics)
    finally:
        admin.execute("START SLAVE SQL_THREAD")


def test_postgres_standby_role_and_lag(postgres: Postgres, postgres_standby: Postgres) -> None:
    primary = Admin("postgres", postgres)
    assert eventually(
        lambda: primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1
    )
    metrics = health("postgres", postgres.port)
    assert value(metrics, "hospmon_db_replication_is_replica") == 0
    assert value(metrics, "hospmon_db_replicas") == 1
    assert value(metrics, "hospmon_db_replication_lag_seconds", channel="standby1") >= 0
    metrics = health("postgres", postgres_standby.port)
    assert value(metrics, "hospmon_db_replication_is_replica") == 1
    assert value(metrics, "hospmon_db_replication_lag_seconds", channel="replay") >= 0
    assert value(metrics, "hospmon_db_up") == 1


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_replica_refuses_writes_too(
    engine: str, mariadb_replica: MariaDB, postgres_standby: Postgres
) -> None:
    """The monitoring account is read-only on replicas as well (replicated grants, read-only session)."""
    port = mariadb_replica.port if engine == "mysql" else postgres_standby.port
    sql = SqlEngine()
    try:
        with sql.session(make_target(engine, port), Deadline.after(5)) as session:
            with pytest.raises(Exception) as err:
                session.query("INSERT INTO scratch VALUES (1)")
            assert getattr(err.value, "reason", None) == "config"
    finally:
        sql.close()

"""Built-in health collectors for PostgreSQL and compatible engines (openGauss, KingbaseES, ...).

Needs only membership of ``pg_monitor``: no table access. Sample::

    hospmon_db_version_info{engine="postgres",flavor="postgres",version="15.8"} 1
    hospmon_db_connections 7
    hospmon_db_oldest_transaction_seconds 0.4
    hospmon_db_blocked_sessions{lock="transactionid"} 1
    hospmon_db_replication_lag_seconds{channel="standby1"} 0.02
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporters.database.config import HealthSpec
from exporters.database.engine import Session
from exporters.database.health.common import (
    Collector,
    ages,
    cache_counters,
    counter,
    gauge,
    info,
    labelled,
    num,
)

_ACTIVITY = (
    "SELECT state, wait_event_type, wait_event,"
    " EXTRACT(EPOCH FROM clock_timestamp() - query_start)::float8,"
    " EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8"
    " FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


def flavor_of(version_text: str) -> str:
    """Tell PostgreSQL-compatible engines apart by their ``version()`` text."""
    text = version_text.lower()
    for flavor in ("opengauss", "gaussdb", "kingbase", "highgo", "polardb", "greenplum"):
        if flavor in text:
            return flavor
    return "postgres"


def collect_info(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Version, uptime and maximum connections."""
    row = s.query(
        "SELECT version(), current_setting('server_version'),"
        " EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())::float8,"
        " current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
    ).rows[0]
    yield info("postgres", flavor_of(str(row[0])), str(row[1]).split()[0])
    yield gauge("uptime_seconds", "Seconds since the server started.", row[2])
    yield gauge("connections_max", "Connections the server accepts from ordinary users.", row[3] - row[4])


def collect_activity(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Sessions, long queries and transactions and blocked sessions from ``pg_stat_activity``."""
    rows = s.query(_ACTIVITY).rows
    own = 1  # this session is excluded from the rows but holds a connection too
    yield gauge("connections", "Client connections open now.", len(rows) + own)
    states: dict[str, int] = {}
    for state, *_ in rows:
        states[str(state or "unknown")] = states.get(str(state or "unknown"), 0) + 1
    yield labelled(
        "sessions", "Client sessions by state.", ["state"], [([k], v) for k, v in sorted(states.items())]
    )
    yield gauge("active_sessions", "Sessions running a statement now.", states.get("active", 0))
    yield from ages(
        "query",
        "running statement",
        [num(r[3]) or 0.0 for r in rows if r[0] == "active"],
        spec.long_query_seconds,
    )
    yield from ages("transaction", "open transaction", [num(r[4]) or 0.0 for r in rows if r[4] is not None],
                    spec.long_query_seconds)  # fmt: skip
    blocked: dict[str, int] = {}
    for r in rows:
        if r[1] == "Lock":
            blocked[str(r[2])] = blocked.get(str(r[2]), 0) + 1
    yield labelled("blocked_sessions", "Sessions waiting for a lock held by another, by lock kind.", ["lock"],
                   [([k], v) for k, v in sorted(blocked.items())])  # fmt: skip
    waiting = s.query("SELECT count(*) FROM pg_locks WHERE NOT granted").scalar()
    yield gauge("waiting_locks", "Lock requests waiting now.", waiting)


def collect_database(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Transaction, block read and deadlock counters from ``pg_stat_database``.

    Where the ``pg_stat_statements`` extension is installed in the monitored database, also the count of
    statements executed (one more round trip, only there).
    """
    row = s.query(
        "SELECT sum(xact_commit), sum(xact_rollback), sum(blks_hit + blks_read), sum(blks_read),"
        " sum(deadlocks), to_regclass('pg_stat_statements') IS NOT NULL FROM pg_stat_database"
    ).rows[0]
    yield labelled("transactions", "Transactions ended, by result.", ["result"],
                   [(["commit"], row[0]), (["rollback"], row[1])], kind="counter")  # fmt: skip
    yield from cache_counters(row[2], row[3])
    yield counter("deadlocks", "Deadlocks detected since the statistics were reset.", row[4])
    if row[5]:
        calls = s.query("SELECT sum(calls) FROM pg_stat_statements").scalar()
        yield counter("queries", "Statements executed (pg_stat_statements).", calls)


def collect_replication(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Standby role and replay lag, or the primary's standbys and their lag."""
    row = s.query(
        "SELECT pg_is_in_recovery(),"
        " CASE WHEN NOT pg_is_in_recovery() THEN NULL"
        " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
        " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END"
    ).rows[0]
    replica = bool(row[0])
    yield gauge("replication_is_replica", "1 when this server is a standby.", 1 if replica else 0)
    if replica:
        yield labelled("replication_lag_seconds", "How far the replica is behind its source.", ["channel"],
                       [(["replay"], row[1])])  # fmt: skip
        return
    standbys = s.query(
        "SELECT application_name, state, COALESCE(EXTRACT(EPOCH FROM replay_lag)::float8, 0)"
        " FROM pg_stat_replication"
    ).rows
    yield gauge(
        "replicas", "Standbys streaming from this server.", sum(1 for r in standbys if r[1] == "streaming")
    )
    yield labelled("replication_lag_seconds", "How far each standby is behind this server.", ["channel"],
                   [([str(r[0]) or "unnamed"], r[2]) for r in standbys])  # fmt: skip


def collect_sizes(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Database and tablespace sizes (``pg_monitor`` may read them without connecting to each database)."""
    dbs = s.query("SELECT datname, pg_database_size(oid) FROM pg_database WHERE datallowconn ORDER BY 1").rows
    yield labelled(
        "database_size_bytes", "Disk space used by a database.", ["database"], [([d], n) for d, n in dbs]
    )
    spaces = s.query("SELECT spcname, pg_tablespace_size(oid) FROM pg_tablespace ORDER BY 1").rows
    yield labelled("tablespace_size_bytes", "Disk space used by a tablespace.", ["tablespace"],
                   [([t], n) for t, n in spaces])  # fmt: skip


COLLECTORS = (
    Collector("info", collect_info),
    Collector("activity", collect_activity),
    Collector("database", collect_database),
    Collector("replication", collect_replication),
    Collector("sizes", collect_sizes, costly=True),
)

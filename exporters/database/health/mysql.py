"""Built-in health collectors for MySQL and MariaDB.

Needs only ``PROCESS`` and ``REPLICA MONITOR`` (MariaDB) or ``REPLICATION CLIENT`` (MySQL): no table access.
Sample::

    hospmon_db_version_info{engine="mysql",flavor="mariadb",version="10.11.6-MariaDB"} 1
    hospmon_db_connections 12
    hospmon_db_connections_max 151
    hospmon_db_oldest_transaction_seconds 3.0
    hospmon_db_blocked_sessions{lock="row"} 0
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

_STATUS = (
    "Uptime", "Threads_connected", "Threads_running", "Max_used_connections", "Questions", "Handler_commit",
    "Handler_rollback", "Slow_queries", "Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_reads",
    "Innodb_row_lock_waits", "Innodb_row_lock_time", "Innodb_row_lock_current_waits", "Innodb_deadlocks",
    "Aborted_connects",
)  # fmt: skip
_PROCESSLIST = (
    "SELECT COMMAND, TIME, COALESCE(STATE, '') FROM information_schema.PROCESSLIST"
    " WHERE ID <> CONNECTION_ID() AND USER <> 'system user'"
    " AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID',"
    " 'Slave_IO', 'Slave_SQL', 'Slave_worker')"
)


def version_tuple(text: str) -> tuple[int, ...]:
    """Return the leading numbers of a server version (``8.0.36-log`` gives ``(8, 0, 36)``)."""
    head = text.split("-", 1)[0]
    return tuple(int(part) for part in head.split(".") if part.isdigit())


def collect_info(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Version, maximum connections and read-only flag."""
    row = s.query("SELECT VERSION(), @@max_connections, @@read_only").rows[0]
    yield info("mysql", s.flavor, str(row[0]))
    yield gauge("connections_max", "Connections the server accepts.", row[1])
    yield gauge("read_only", "1 when the server refuses writes (a replica or a fenced primary).", row[2])


def collect_status(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Counters and gauges from ``SHOW GLOBAL STATUS``."""
    names = ", ".join(f"'{n}'" for n in _STATUS)
    rows = s.query(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})").rows
    st = {str(k): v for k, v in rows}
    yield gauge("uptime_seconds", "Seconds since the server started.", st.get("Uptime"))
    yield gauge("connections", "Client connections open now.", st.get("Threads_connected"))
    yield gauge(
        "connections_max_used", "Most connections open at once since start.", st.get("Max_used_connections")
    )
    yield gauge("active_sessions", "Sessions running a statement now.", st.get("Threads_running"))
    yield counter("queries", "Statements sent by clients.", st.get("Questions"))
    yield labelled(
        "transactions", "Transactions ended, by result.", ["result"],
        [(["commit"], st.get("Handler_commit")), (["rollback"], st.get("Handler_rollback"))], kind="counter",
    )  # fmt: skip
    yield counter("slow_queries", "Statements slower than long_query_time.", st.get("Slow_queries"))
    yield from cache_counters(st.get("Innodb_buffer_pool_read_requests"), st.get("Innodb_buffer_pool_reads"))
    yield counter("lock_waits", "Row lock waits since start.", st.get("Innodb_row_lock_waits"))
    lock_ms = num(st.get("Innodb_row_lock_time"))
    yield counter(
        "lock_wait_seconds", "Time spent waiting for row locks.", None if lock_ms is None else lock_ms / 1000
    )
    yield gauge("waiting_locks", "Lock requests waiting now.", st.get("Innodb_row_lock_current_waits"))
    yield counter(
        "aborted_connects",
        "Failed connection attempts (wrong password, timeouts).",
        st.get("Aborted_connects"),
    )
    deadlocks = st.get("Innodb_deadlocks")
    if deadlocks is None and s.flavor == "mysql":
        deadlocks = s.query(
            "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME = 'lock_deadlocks'"
        ).scalar()
    yield counter("deadlocks", "Deadlocks detected since start.", deadlocks)


def collect_activity(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Long queries and transactions, blocked sessions, from the processlist and ``INNODB_TRX``."""
    procs = s.query(_PROCESSLIST).rows
    query_ages = [float(t or 0) for cmd, t, _ in procs if cmd in ("Query", "Execute")]
    yield from ages("query", "running statement", query_ages, spec.long_query_seconds)
    mdl = sum(1 for _, _, state in procs if str(state).startswith("Waiting for") and "lock" in str(state))
    trx = s.query(
        "SELECT TIMESTAMPDIFF(SECOND, trx_started, NOW()), trx_state = 'LOCK WAIT',"
        " COALESCE(TIMESTAMPDIFF(SECOND, trx_wait_started, NOW()), 0)"
        " FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()"
    ).rows
    yield gauge("open_transactions", "Transactions open now.", len(trx))
    yield from ages(
        "transaction", "open transaction", [float(r[0] or 0) for r in trx], spec.long_query_seconds
    )
    row_waits = sum(1 for r in trx if r[1])
    yield labelled(
        "blocked_sessions", "Sessions waiting for a lock held by another, by lock kind.", ["lock"],
        [(["row"], row_waits), (["metadata"], mdl)],
    )  # fmt: skip
    yield gauge(
        "oldest_lock_wait_seconds",
        "Longest current row lock wait.",
        max((float(r[2]) for r in trx if r[1]), default=0),
    )


def collect_replication(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Replica role, threads and lag from ``SHOW ALL SLAVES STATUS`` or ``SHOW REPLICA STATUS``."""
    if s.flavor == "mariadb":
        sql = "SHOW ALL SLAVES STATUS"
    elif version_tuple(s.server_version) >= (8, 0, 22):
        sql = "SHOW REPLICA STATUS"
    else:
        sql = "SHOW SLAVE STATUS"
    rows = s.query(sql).dicts()
    yield gauge("replication_is_replica", "1 when this server replicates from another.", 1 if rows else 0)
    lag, running = [], []
    for row in rows:
        channel = str(row.get("connection_name") or row.get("channel_name") or "default")
        seconds = row.get("seconds_behind_master", row.get("seconds_behind_source"))
        lag.append(([channel], seconds))
        for thread in ("io", "sql"):
            state = row.get(f"slave_{thread}_running", row.get(f"replica_{thread}_running"))
            running.append(([channel, thread], 1 if state == "Yes" else 0))
    yield labelled("replication_lag_seconds", "How far the replica is behind its source.", ["channel"], lag)
    yield labelled("replication_running", "1 when a replication thread runs.", ["channel", "thread"], running)


def collect_sizes(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Database sizes from InnoDB tablespaces (needs PROCESS only, no access to the tables)."""
    modern_mysql = s.flavor == "mysql" and version_tuple(s.server_version) >= (8,)
    view = "INNODB_TABLESPACES" if modern_mysql else "INNODB_SYS_TABLESPACES"
    rows = s.query(f"SELECT NAME, FILE_SIZE, ALLOCATED_SIZE FROM information_schema.{view}").rows  # noqa: S608
    databases: dict[str, float] = {}
    spaces = []
    for name, file_size, allocated in rows:
        size = num(allocated) or num(file_size) or 0.0
        if "/" in str(name):
            db = str(name).split("/", 1)[0]
            databases[db] = databases.get(db, 0.0) + size
        else:
            spaces.append(([str(name)], size))
    yield labelled("database_size_bytes", "Disk space used by a database's tables.", ["database"],
                   [([db], size) for db, size in sorted(databases.items())])  # fmt: skip
    yield labelled("tablespace_size_bytes", "Disk space of shared tablespaces.", ["tablespace"], spaces)


COLLECTORS = (
    Collector("info", collect_info),
    Collector("status", collect_status),
    Collector("activity", collect_activity),
    Collector("replication", collect_replication),
    Collector("sizes", collect_sizes, costly=True),
)

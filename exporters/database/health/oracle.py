"""Built-in health collectors for Oracle (thin mode; ``SELECT_CATALOG_ROLE`` or grants on the views used).

Sample::

    hospmon_db_version_info{engine="oracle",flavor="oracle",version="19.0.0.0.0"} 1
    hospmon_db_tablespace_used_bytes{tablespace="USERS"} 1.2e+09
    hospmon_db_tablespace_max_bytes{tablespace="USERS"} 3.4e+10      # autoextend maximum
    hospmon_db_replication_lag_seconds{channel="dataguard_apply"} 3
    hospmon_db_wait_seconds_total{wait_class="User I/O"} 1234.5
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
    interval_seconds,
    labelled,
    num,
)

_SYSSTAT = (
    "user commits", "user rollbacks", "execute count", "session logical reads", "physical reads",
    "enqueue deadlocks", "enqueue waits",
)  # fmt: skip


def collect_info(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Version, uptime, role, open mode and the session limit."""
    row = s.query(
        "SELECT i.version, (SYSDATE - i.startup_time) * 86400, d.database_role, d.open_mode,"
        " (SELECT TO_NUMBER(value) FROM v$parameter WHERE name = 'sessions')"
        " FROM v$instance i CROSS JOIN v$database d"
    ).rows[0]
    yield info("oracle", "oracle", str(row[0]))
    yield gauge("uptime_seconds", "Seconds since the instance started.", row[1])
    yield gauge(
        "replication_is_replica", "1 when this database is a standby.", 0 if row[2] == "PRIMARY" else 1
    )
    yield labelled("database_role", "The Data Guard role and open mode.", ["role", "open_mode"],
                   [([str(row[2]), str(row[3])], 1)])  # fmt: skip
    yield gauge("connections_max", "Sessions the instance accepts.", row[4])


def collect_activity(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """User sessions, long calls and transactions and blocked sessions from ``v$session``."""
    rows = s.query(
        "SELECT status, last_call_et, blocking_session, wait_class FROM v$session"
        " WHERE type = 'USER' AND sid <> SYS_CONTEXT('USERENV', 'SID')"
    ).rows
    yield gauge("connections", "User sessions open now.", len(rows) + 1)
    active = [num(r[1]) or 0.0 for r in rows if r[0] == "ACTIVE"]
    yield gauge("active_sessions", "Sessions running a call now.", len(active))
    yield from ages("query", "running call", active, spec.long_query_seconds)
    blocked: dict[str, int] = {}
    for r in rows:
        if r[2] is not None:
            blocked[str(r[3] or "unknown")] = blocked.get(str(r[3] or "unknown"), 0) + 1
    yield labelled("blocked_sessions", "Sessions blocked by another session, by wait class.", ["lock"],
                   [([k], v) for k, v in sorted(blocked.items())])  # fmt: skip
    trx = s.query("SELECT (SYSDATE - start_date) * 86400 FROM v$transaction").rows
    yield gauge("open_transactions", "Transactions open now.", len(trx))
    yield from ages(
        "transaction", "open transaction", [num(r[0]) or 0.0 for r in trx], spec.long_query_seconds
    )


def collect_sysstat(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Counters from ``v$sysstat``."""
    names = ", ".join(f"'{n}'" for n in _SYSSTAT)
    st = {str(k): v for k, v in s.query(f"SELECT name, value FROM v$sysstat WHERE name IN ({names})").rows}  # noqa: S608
    yield counter("queries", "Calls that executed SQL.", st.get("execute count"))
    yield labelled("transactions", "Transactions ended, by result.", ["result"],
                   [(["commit"], st.get("user commits")), (["rollback"], st.get("user rollbacks"))],
                   kind="counter")  # fmt: skip
    yield from cache_counters(st.get("session logical reads"), st.get("physical reads"))
    yield counter("deadlocks", "Enqueue deadlocks since start.", st.get("enqueue deadlocks"))
    yield counter("lock_waits", "Enqueue waits since start.", st.get("enqueue waits"))


def collect_waits(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Time waited by wait class (Idle excluded)."""
    rows = s.query(
        "SELECT wait_class, total_waits, time_waited_micro FROM v$system_wait_class"
        " WHERE wait_class <> 'Idle'"
    ).rows
    yield labelled(
        "waits", "Waits by wait class.", ["wait_class"], [([r[0]], r[1]) for r in rows], kind="counter"
    )
    yield labelled("wait_seconds", "Time waited by wait class.", ["wait_class"],
                   [([r[0]], (num(r[2]) or 0.0) / 1e6) for r in rows], kind="counter")  # fmt: skip


def collect_dataguard(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Data Guard transport and apply lag (rows only on a standby) and archive destinations in error."""
    rows = s.query(
        "SELECT name, value FROM v$dataguard_stats WHERE name IN ('transport lag', 'apply lag')"
    ).rows
    yield labelled("replication_lag_seconds", "How far the standby is behind the primary.", ["channel"],
                   [(["dataguard_" + str(n).split()[0]], interval_seconds(v)) for n, v in rows])  # fmt: skip
    dests = s.query("SELECT dest_name, status FROM v$archive_dest WHERE status <> 'INACTIVE'").rows
    yield labelled("archive_dest_error", "1 when an archive log destination is not VALID.", ["dest"],
                   [([str(d)], 0 if st == "VALID" else 1) for d, st in dests])  # fmt: skip


def collect_sizes(s: Session, spec: HealthSpec) -> Iterable[Metric]:
    """Tablespace use against the autoextend maximum and the recovery area use."""
    rows = s.query(
        "SELECT m.tablespace_name, m.used_space * t.block_size, m.tablespace_size * t.block_size"
        " FROM dba_tablespace_usage_metrics m JOIN dba_tablespaces t ON t.tablespace_name = m.tablespace_name"
    ).rows
    yield labelled(
        "tablespace_used_bytes", "Space used in a tablespace.", ["tablespace"], [([r[0]], r[1]) for r in rows]
    )
    yield labelled("tablespace_max_bytes", "Largest size a tablespace may reach, autoextend included.",
                   ["tablespace"], [([r[0]], r[2]) for r in rows])  # fmt: skip
    dest = s.query("SELECT space_limit, space_used, space_reclaimable FROM v$recovery_file_dest").rows
    if dest:
        yield gauge(
            "recovery_dest_limit_bytes", "Size limit of the fast recovery area (archive logs).", dest[0][0]
        )
        yield gauge("recovery_dest_used_bytes", "Space used in the fast recovery area.", dest[0][1])
        yield gauge("recovery_dest_reclaimable_bytes", "Used space that may be reclaimed.", dest[0][2])


COLLECTORS = (
    Collector("info", collect_info),
    Collector("activity", collect_activity),
    Collector("sysstat", collect_sysstat),
    Collector("waits", collect_waits),
    Collector("dataguard", collect_dataguard),
    Collector("sizes", collect_sizes, costly=True),
)

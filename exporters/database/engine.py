"""The SQL engine: pooled, read-only, deadline-bound sessions and custom queries turned into metrics.

This is the library the database, HIS and LIS exporters share. Give it targets (`Target`), then per probe::

    engine = SqlEngine()
    metrics = engine.run_queries(target, module.queries, deadline)   # custom queries, with per-query series

or run your own statements through `engine.session(target, deadline)`. Per-query series::

    hospmon_db_query_success{query="waiting_patients"} 1
    hospmon_db_query_duration_seconds{query="waiting_patients"} 0.0031
    hospmon_db_query_rows{query="waiting_patients"} 4
    hospmon_db_query_result_age_seconds{query="waiting_patients"} 12.5   # > 0 when served from cache
    hospmon_db_query_failure{query="bad_sql",reason="config"} 1          # only for a failed query
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporters.core.probe import Deadline
from exporters.database.config import QuerySpec
from exporters.database.drivers import DbConnection, QueryError, Result, Target, connect
from exporters.database.drivers.base import WATCHDOG_GRACE_SECONDS
from exporters.database.pool import Connector, Pool
from exporters.database.queries import GuardError, RowsError, build_metrics
from hospmon.phi import PhiGuard

log = logging.getLogger(__name__)

MIN_QUERY_SECONDS = 0.05
"""A statement is not started with less time than this left: it would only be interrupted."""
MAX_POOLS = 256
DEADLINE_MARGIN_SECONDS = 0.2
"""Time kept after the watchdog's interrupt to answer the scrape, even on a loaded machine."""
SLACK_SHARE = 0.1
"""With a short deadline (a 1 s scrape timeout leaves 0.5 s), grace and margin are each this share of it."""


class Session:
    """The statements of one probe on one pooled connection, each bounded by the probe's deadline."""

    def __init__(self, pool: Pool, deadline: Deadline) -> None:
        self.pool = pool
        self.target = pool.target
        self.deadline = deadline
        self.round_trips = 0
        self._conn: DbConnection | None = None
        self._base = 0
        self._checked_out_used = False
        self._connect_error: QueryError | None = None

    @property
    def flavor(self) -> str:
        """Return the flavour (``mariadb``, ``mysql``, ``postgres``, ``oracle``), connecting if needed."""
        return self._connection().flavor

    @property
    def server_version(self) -> str:
        """Return the version the server announced at connect."""
        return self._connection().server_version

    def _connection(self) -> DbConnection:
        if self._conn is not None and self._conn.broken:
            self._drop()
        if self._conn is None:
            if self._connect_error is not None:
                raise self._connect_error  # one failed connect per probe, not one per query
            try:
                conn = self.pool.acquire(self.deadline)
            except QueryError as exc:
                self._connect_error = exc
                raise
            self._base = conn.round_trips if conn.statements else 0  # a new one: count its connect too
            self._conn = conn
            try:
                conn.begin()
            except Exception as exc:
                self._drop()
                raise conn.classify(exc) from None
            self._checked_out_used = False
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.broken = True
            self.round_trips += self._conn.round_trips - self._base
            self.pool.release(self._conn)
            self._conn = None
            self._base = 0

    def _slack(self, remaining: float) -> tuple[float, float]:
        """Return the watchdog's grace and the answer's margin: fixed, or a share of a short deadline."""
        share = SLACK_SHARE * remaining
        return min(WATCHDOG_GRACE_SECONDS, share), min(DEADLINE_MARGIN_SECONDS, share)

    def time_left(self, timeout: float | None = None) -> float:
        """Return the server-side timeout for the next statement: its own, cut to fit the deadline."""
        wanted = timeout if timeout is not None else self.target.query_timeout
        remaining = self.deadline.remaining()
        grace, margin = self._slack(remaining)
        return min(wanted, remaining - grace - margin)

    def query(self, sql: str, timeout: float | None = None) -> Result:
        """Run one read-only statement; raise `QueryError` with a reason when it fails or runs out of time."""
        for attempt in (1, 2):
            if self.time_left(timeout) < MIN_QUERY_SECONDS:
                raise QueryError("timeout", "no time left before the scrape deadline")
            conn = self._connection()
            seconds = self.time_left(timeout)  # again: connecting took some of it
            if seconds < MIN_QUERY_SECONDS:
                raise QueryError("timeout", "no time left before the scrape deadline")
            reused = conn.statements > 0 and not self._checked_out_used
            try:
                return conn.query(sql, seconds, self._slack(self.deadline.remaining())[0])
            except QueryError as exc:
                # An idle pooled session the server closed meanwhile: retry once on a fresh one.
                if attempt == 1 and reused and exc.reason == "unreachable":
                    self._drop()
                    continue
                raise
            finally:
                self._checked_out_used = True
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """End the probe's work and give the connection back to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if not conn.broken:
                    conn.end()
            except Exception:
                conn.broken = True
            self.round_trips += conn.round_trips - self._base
            self.pool.release(conn)
        self.pool.count_round_trips(self.round_trips)


@dataclass
class Cached:
    """A result kept for a query's minimum interval."""

    at: float
    duration: float
    rows: int
    metrics: list[Metric]

    def families(self) -> list[Metric]:
        """Return copies of the families: the core merges same-named families by extending their samples."""
        out = []
        for family in self.metrics:
            twin = copy.copy(family)
            twin.samples = list(family.samples)
            out.append(twin)
        return out


class SqlEngine:
    """Pools and cached results for every target of one loaded config."""

    def __init__(self, connector: Connector = connect, guard: PhiGuard | None = None) -> None:
        self._connector = connector
        self.guard = guard or PhiGuard()
        self._lock = threading.Lock()
        self._pools: dict[tuple[Any, ...], Pool] = {}
        self._cache: dict[tuple[Any, ...], Cached] = {}

    def pool(self, target: Target) -> Pool:
        """Return the pool of `target`, creating it on first use."""
        dropped: list[Pool] = []
        with self._lock:
            pool = self._pools.get(target.key)
            # Connections naming the same server, database and account share a pool (the first name shows).
            if pool is None or pool.target != dataclasses.replace(target, name=pool.target.name):
                if pool is not None:
                    dropped.append(pool)
                pool = Pool(target, self._connector)
                if len(self._pools) >= MAX_POOLS:
                    # HOST:PORT requests create pools: forget (and close) the ones holding no connection.
                    dropped.extend(p for p in self._pools.values() if not p.open_count)
                    self._pools = {k: p for k, p in self._pools.items() if p.open_count}
                self._pools[target.key] = pool
        for old in dropped:
            old.close()
        return pool

    def pools(self) -> list[Pool]:
        """Return every pool, for the exporter's own metrics."""
        with self._lock:
            return list(self._pools.values())

    def pool_metrics(self) -> list[Metric]:
        """Return the size and peak of every pool, for an exporter's ``/metrics``.

        Sample::

            hospmon_db_pool_connections{target="his-db"} 1
            hospmon_db_pool_connections_peak{target="his-db"} 2
            hospmon_db_server_round_trips_total{target="his-db"} 1234
        """
        open_ = GaugeMetricFamily(
            "hospmon_db_pool_connections", "Connections a pool holds now.", labels=["target"]
        )
        peak = GaugeMetricFamily(
            "hospmon_db_pool_connections_peak", "Most connections a pool held at once.", labels=["target"]
        )
        trips = CounterMetricFamily(
            "hospmon_db_server_round_trips", "Statements and connects sent to a target.", labels=["target"]
        )
        for pool in self.pools():
            open_.add_metric([pool.target.name], pool.open_count)
            peak.add_metric([pool.target.name], pool.peak_open)
            trips.add_metric([pool.target.name], pool.round_trips)
        return [open_, peak, trips]

    @contextmanager
    def session(self, target: Target, deadline: Deadline) -> Iterator[Session]:
        """Lend a session on `target` for one probe; the connection returns to the pool on exit."""
        session = Session(self.pool(target), deadline)
        try:
            yield session
        finally:
            session.close()

    def cached(self, key: tuple[Any, ...], min_interval: float) -> Cached | None:
        """Return the cached result under `key` if younger than `min_interval`."""
        if min_interval <= 0:
            return None
        with self._lock:
            entry = self._cache.get(key)
        return entry if entry is not None and time.monotonic() - entry.at < min_interval else None

    def store(self, key: tuple[Any, ...], entry: Cached) -> None:
        """Keep a result for reuse."""
        with self._lock:
            self._cache[key] = entry

    def run_queries(
        self, target: Target, queries: Sequence[QuerySpec], deadline: Deadline, *, prefix: str = "hospmon_db"
    ) -> tuple[list[Metric], list[QueryError]]:
        """Run custom queries on one session; return their metrics and the failures."""
        stats = QueryStats(prefix)
        out: list[Metric] = []
        failed: list[QueryError] = []
        with self.session(target, deadline) as session:
            for query in queries:
                key = (target.key, "query", query.name, query.sql_for(target.engine))
                entry = self.cached(key, query.min_interval)
                if entry is not None:
                    out.extend(entry.families())
                    stats.add(query.name, entry, time.monotonic() - entry.at)
                    continue
                try:
                    entry = self._run_one(session, query)
                except QueryError as exc:
                    failed.append(exc)
                    log.warning("target %s query %s failed: %s", target.name, query.name, exc)
                    stats.fail(query.name, exc.reason)
                    continue
                self.store(key, entry)
                out.extend(entry.families())
                stats.add(query.name, entry, 0.0)
        out.extend(stats.families())
        return out, failed

    def _run_one(self, session: Session, query: QuerySpec) -> Cached:
        sql = query.sql_for(session.target.engine)
        if sql is None:
            raise QueryError("config", f"query {query.name} has no SQL for engine {session.target.engine}")
        started = time.monotonic()
        result = session.query(sql, query.timeout)
        duration = time.monotonic() - started
        try:
            metrics = build_metrics(query, result, self.guard)
        except (GuardError, RowsError) as exc:
            reason = "check_failed" if isinstance(exc, GuardError) else "bad_response"
            raise QueryError(reason, str(exc)) from None
        return Cached(started, duration, len(result.rows), metrics)

    def close(self) -> None:
        """Close every pool."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            self._cache.clear()
        for pool in pools:
            pool.close()


class QueryStats:
    """The per-query success, duration, rows, result age and failure series of one probe."""

    def __init__(self, prefix: str, kind: str = "query", *, with_rows: bool = True) -> None:
        name = f"{prefix}_{kind}"
        label = [kind]
        self.success = GaugeMetricFamily(f"{name}_success", f"Whether the {kind} succeeded.", labels=label)
        self.duration = GaugeMetricFamily(
            f"{name}_duration_seconds", f"Time the {kind} took when it last ran.", labels=label
        )
        self.with_rows = with_rows
        self.rows = GaugeMetricFamily(f"{name}_rows", f"Rows the {kind} returned.", labels=label)
        self.age = GaugeMetricFamily(
            f"{name}_result_age_seconds", f"Age of the {kind} result served (0: run now).", labels=label
        )
        self.failure = GaugeMetricFamily(
            f"{name}_failure", f"Set for a failed {kind}, with the reason.", labels=[kind, "reason"]
        )

    def add(self, name: str, entry: Cached, age: float) -> None:
        """Record a query that returned `entry`, run now (age 0) or earlier."""
        self.success.add_metric([name], 1)
        self.duration.add_metric([name], entry.duration)
        self.rows.add_metric([name], entry.rows)
        self.age.add_metric([name], age)

    def fail(self, name: str, reason: str) -> None:
        """Record a failed query."""
        self.success.add_metric([name], 0)
        self.failure.add_metric([name, reason], 1)

    def families(self) -> list[Metric]:
        """Return the families."""
        rows = [self.rows] if self.with_rows else []
        return [self.success, self.duration, *rows, self.age, self.failure]

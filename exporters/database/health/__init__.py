"""The built-in ``health`` module: per-engine collectors run on one session, each failing on its own.

Besides each collector's metrics::

    hospmon_db_up 1                                      # 0 when the module fails (server down)
    hospmon_db_collector_success{collector="replication"} 1
    hospmon_db_collector_duration_seconds{collector="replication"} 0.0008
    hospmon_db_collector_result_age_seconds{collector="sizes"} 120.0    # costly collectors are cached
    hospmon_db_collector_failure{collector="activity",reason="timeout"} 1
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporters.core.probe import Deadline
from exporters.database.config import HealthSpec
from exporters.database.drivers import QueryError, Target
from exporters.database.engine import Cached, QueryStats, SqlEngine
from exporters.database.health import mysql, oracle, postgres
from exporters.database.health.common import Collector

log = logging.getLogger(__name__)

COLLECTORS: dict[str, Sequence[Collector]] = {
    "mysql": mysql.COLLECTORS,
    "postgres": postgres.COLLECTORS,
    "oracle": oracle.COLLECTORS,
}


def run_health(engine: SqlEngine, target: Target, spec: HealthSpec, deadline: Deadline) -> list[Metric]:
    """Run the health collectors of the target's engine; raise `QueryError` when none could run."""
    stats = QueryStats("hospmon_db", kind="collector", with_rows=False)
    out: list[Metric] = []
    failures: list[QueryError] = []
    answered = 0
    with engine.session(target, deadline) as session:
        session.flavor  # noqa: B018 - connect first: a server that is down fails the whole module
        for collector in COLLECTORS[target.engine]:
            if collector.name in spec.disabled:
                continue
            key = (target.key, "collector", collector.name)
            interval = spec.sizes_min_interval if collector.costly else 0.0
            entry = engine.cached(key, interval)
            if entry is not None:
                out.extend(entry.families())
                stats.add(collector.name, entry, time.monotonic() - entry.at)
                continue
            started = time.monotonic()
            try:
                metrics = list(collector.collect(session, spec))
            except QueryError as exc:
                log.warning("target %s health collector %s failed: %s", target.name, collector.name, exc)
                failures.append(exc)
                stats.fail(collector.name, exc.reason)
                continue
            answered += 1
            entry = Cached(started, time.monotonic() - started, len(metrics), metrics)
            if collector.costly:
                engine.store(key, entry)
            out.extend(entry.families())
            stats.add(collector.name, entry, 0.0)
    if failures and not answered:
        # Cached results alone do not show the server is up: fail the module with the first reason.
        raise failures[0]
    return [db_up(1), *out, *stats.families()]


def db_up(value: int) -> GaugeMetricFamily:
    """Return ``hospmon_db_up``: 1 when the server answered, 0 when the health module failed."""
    up = GaugeMetricFamily("hospmon_db_up", "1 when the server answered this probe's statements.")
    up.add_metric([], value)
    return up

"""Metrics read from the store at scrape time, so every replica reports the same numbers.

hospmon_router_incidents_open{priority="P1",team="network"} 1
hospmon_router_notification_failures_total{channel="email"} 2
hospmon_router_mtta_seconds_bucket{priority="P1",team="network",le="300"} 4
hospmon_router_oncall_gap{team="dba"} 0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from alertrouter.db import is_postgres
from alertrouter.models import OPEN, Incident, Notification
from alertrouter.policy.oncall import gaps_ahead
from alertrouter.policy.rota import plan
from alertrouter.state import AppState

BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)


class StoreCollector(Collector):
    """Collects incident, notification and on-call metrics from the store on each scrape."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def describe(self) -> Iterator[Metric]:
        """Describe nothing ahead, so registering never touches the store."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """Yield the metrics; the store being down shows as hospmon_router_store_up 0."""
        up = GaugeMetricFamily("hospmon_router_store_up", "Whether the store answered this scrape.")
        try:
            metrics = list(self._from_store())
        except SQLAlchemyError:
            up.add_metric([], 0.0)
            yield up
        else:
            up.add_metric([], 1.0)
            yield up
            yield from metrics
        yield self._gaps()

    def _from_store(self) -> Iterator[Metric]:
        with self.state.sessions() as session:
            open_ = GaugeMetricFamily(
                "hospmon_router_incidents_open", "Open incidents.", labels=["priority", "team"]
            )
            rows = session.execute(
                select(Incident.priority, Incident.team, func.count())
                .where(Incident.status.in_(OPEN))
                .group_by(Incident.priority, Incident.team)
            )
            for prio, team, n in rows:
                open_.add_metric([prio, team or ""], float(n))
            yield open_
            fails = CounterMetricFamily(
                "hospmon_router_notification_failures", "Failed notification attempts.", labels=["channel"]
            )
            failures = session.execute(
                select(
                    Notification.channel, func.sum(Notification.attempts) - func.count(Notification.sent_at)
                ).group_by(Notification.channel)
            )
            for channel, n in failures:
                fails.add_metric([channel], float(n or 0))
            yield fails
            yield self._histogram(
                session,
                Incident.acknowledged_at,
                "hospmon_router_mtta_seconds",
                "Time from opening to acknowledgement.",
            )
            yield self._histogram(
                session,
                Incident.resolved_at,
                "hospmon_router_mttr_seconds",
                "Time from opening to resolution.",
            )

    def _histogram(
        self, session: Session, end: InstrumentedAttribute[dt.datetime | None], name: str, doc: str
    ) -> HistogramMetricFamily:
        """Bucket the time from opening to `end` by team and priority in SQL, so history never loads."""
        seconds = _seconds(Incident.created_at, end, session)
        columns = [func.sum(case((seconds <= b, 1), else_=0)) for b in BUCKETS]
        rows = session.execute(
            select(Incident.team, Incident.priority, func.count(), func.sum(seconds), *columns)
            .where(end.is_not(None), Incident.parent_id.is_(None))
            .group_by(Incident.team, Incident.priority)
            .order_by(Incident.team, Incident.priority)
        )
        fam = HistogramMetricFamily(name, doc, labels=["team", "priority"])
        for team, prio, count, total, *under in rows:
            buckets = [(str(b), float(n or 0)) for b, n in zip(BUCKETS, under, strict=True)]
            fam.add_metric([team or "", prio], [*buckets, ("+Inf", float(count))], float(total or 0))
        return fam

    def _gaps(self) -> GaugeMetricFamily:
        router = self.state.router
        horizon = dt.timedelta(days=router.settings.file.worker.oncall_horizon_days)
        try:
            with self.state.sessions() as session:
                policy = plan(router, session=session)
        except SQLAlchemyError:  # the store is down: the YAML plan still says where the gaps are
            policy = router.policy
        gaps = gaps_ahead(router.inventory, policy, dt.datetime.now(dt.UTC), horizon)
        fam = GaugeMetricFamily(
            "hospmon_router_oncall_gap_timestamp_seconds",
            "When a team first has nobody on call within the horizon; 0 for no gap.",
            labels=["team"],
        )
        for team in router.inventory.teams:
            fam.add_metric([team], gaps[team].timestamp() if team in gaps else 0.0)
        return fam


def _seconds(start: Any, end: Any, session: Session) -> Any:
    """Return an SQL expression for the seconds between two timestamps, for this dialect."""
    if is_postgres(session):
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0

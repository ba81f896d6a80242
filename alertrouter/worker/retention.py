"""Retention: remove rows past their age, a small batch per transaction, safe on every replica.

What goes, oldest first, by `RetentionConfig`:

- ``alerts``: raw alert rows that ended, ``alerts_days`` after their incident was resolved or closed;
- ``deliveries``: webhook deliveries kept for truncated-alert fetches, after ``alerts_days``;
- ``incidents``: resolved or closed incidents ``incidents_days`` after that, with their alerts, timeline,
  pages, departments, resolution and problem links (knowledge articles stay, unlinked);
- ``timeline``: events older than ``timeline_days``, of any incident;
- ``audit``: audit entries older than ``audit_days``.

Each batch selects at most ``batch_size`` ids and deletes them in its own transaction, so the webhook's
writers wait at most one batch. On PostgreSQL the ids are claimed with ``FOR UPDATE SKIP LOCKED``: two
replicas running at once take different rows. Each pass that removed something says so in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Select, Table, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.console.audit import audit
from alertrouter.console.models import AuditEntry
from alertrouter.db import transaction
from alertrouter.models import ALERTS, EVENTS, Delivery, Incident, Status
from alertrouter.settings import RetentionConfig
from alertrouter.worker.claim import skip_locked

log = logging.getLogger("alertrouter.worker")
DONE = (Status.resolved.value, Status.closed.value)
Selector = Callable[[dt.datetime, int], Select[Any]]
TABLES: dict[str, Table] = {
    "alerts": ALERTS,
    "deliveries": Delivery.__table__,  # type: ignore[dict-item]
    "timeline": EVENTS,
    "audit": AuditEntry.__table__,  # type: ignore[dict-item]
}


def _ended_at() -> Any:
    return func.coalesce(Incident.closed_at, Incident.resolved_at)


def _alerts(cutoff: dt.datetime, n: int) -> Select[Any]:
    done = select(Incident.id).where(Incident.status.in_(DONE), _ended_at() < cutoff)
    return (
        select(ALERTS.c.id)
        .where(ALERTS.c.status == "resolved", ALERTS.c.incident_id.in_(done))
        .order_by(ALERTS.c.id)
        .limit(n)
    )


def _deliveries(cutoff: dt.datetime, n: int) -> Select[Any]:
    pending = Delivery.fetch_status == "pending"
    return (
        select(Delivery.id)
        .where(Delivery.received_at < cutoff, or_(Delivery.fetch_status.is_(None), ~pending))
        .order_by(Delivery.id)
        .limit(n)
    )


def _incidents(cutoff: dt.datetime, n: int) -> Select[Any]:
    return (
        select(Incident.id)
        .where(Incident.status.in_(DONE), _ended_at() < cutoff)
        .order_by(Incident.id)
        .limit(n)
    )


def _timeline(cutoff: dt.datetime, n: int) -> Select[Any]:
    return select(EVENTS.c.id).where(EVENTS.c.at < cutoff).order_by(EVENTS.c.id).limit(n)


def _audit(cutoff: dt.datetime, n: int) -> Select[Any]:
    return select(AuditEntry.id).where(AuditEntry.at < cutoff).order_by(AuditEntry.id).limit(n)


def _remove(table: str, ids: list[int], session: Session) -> None:
    """Delete the rows; an incident takes its alerts along and frees the incidents it had taken over."""
    if table == "incidents":
        session.execute(update(Incident).where(Incident.parent_id.in_(ids)).values(parent_id=None))
        session.execute(delete(ALERTS).where(ALERTS.c.incident_id.in_(ids)))
        # The timeline, pages, departments, resolutions and problem links go by ON DELETE CASCADE.
        session.execute(delete(Incident).where(Incident.id.in_(ids)))
    else:
        target = TABLES[table]
        session.execute(delete(target).where(target.c.id.in_(ids)))


class Retention:
    """Runs the retention passes of one worker: at most every `interval_seconds`, sooner with a backlog."""

    def __init__(self, config: RetentionConfig) -> None:
        self.config = config
        self.next_run: dt.datetime | None = None

    def plan(self, now: dt.datetime) -> list[tuple[str, Selector, dt.datetime]]:
        """Return each table with its selector and cutoff, in the order they are purged."""
        c, day = self.config, dt.timedelta(days=1)
        return [
            ("alerts", _alerts, now - c.alerts_days * day),
            ("deliveries", _deliveries, now - c.alerts_days * day),
            ("incidents", _incidents, now - c.incidents_days * day),
            ("timeline", _timeline, now - c.timeline_days * day),
            ("audit", _audit, now - c.audit_days * day),
        ]

    def run_if_due(
        self,
        sessions: sessionmaker[Session],
        *,
        now: dt.datetime,
        lock: AbstractContextManager[Any] | None = None,
    ) -> dict[str, int]:
        """Run a pass when one is due; return the rows removed per table (empty when not due)."""
        if not self.config.enabled or (self.next_run is not None and now < self.next_run):
            return {}
        removed, backlog = self.run(sessions, now=now, lock=lock)
        interval = dt.timedelta(seconds=self.config.interval_seconds)
        self.next_run = now if backlog else now + interval
        return removed

    def run(
        self,
        sessions: sessionmaker[Session],
        *,
        now: dt.datetime,
        lock: AbstractContextManager[Any] | None = None,
        after_batch: Callable[[str, int], None] | None = None,
    ) -> tuple[dict[str, int], bool]:
        """Remove up to `max_batches` batches per table; return the counts and whether rows remain."""
        removed: dict[str, int] = {}
        backlog = False
        size = self.config.batch_size
        for table, selector, cutoff in self.plan(now):
            for _ in range(self.config.max_batches):
                with transaction(sessions, lock) as session:
                    ids = list(session.execute(skip_locked(selector(cutoff, size), session)).scalars())
                    if ids:
                        _remove(table, ids, session)
                if ids:
                    removed[table] = removed.get(table, 0) + len(ids)
                    if after_batch is not None:
                        after_batch(table, len(ids))
                if len(ids) < size:
                    break
            else:
                backlog = True
        if removed:
            log.info("retention removed %s", ", ".join(f"{n} {t}" for t, n in removed.items()))
            with transaction(sessions, lock) as session:
                audit("retention", session=session, actor="router", at=now, detail=removed, via="worker")
        return removed, backlog

"""Raise the priority of open incidents as the clock moves: clinics open, a holiday ends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import OPEN, Incident
from alertrouter.msg import T, stored
from alertrouter.notify.queue import tell_assignee
from alertrouter.settings import PRIORITIES
from alertrouter.timeline import record


def reassess_open(router: Router, *, session: Session, now: dt.datetime) -> int:
    """Re-decide every open root incident's priority now; raise it when higher, never lower it."""
    rows = session.execute(
        select(Incident.id, Incident.ci, Incident.severity, Incident.priority, Incident.alertname).where(
            Incident.status.in_(OPEN), Incident.ci.is_not(None), Incident.parent_id.is_(None)
        )
    ).all()
    raised = 0
    for row in rows:
        decision = router.assessor.assess(ci=row.ci, severity=row.severity, at=now, alertname=row.alertname)
        if PRIORITIES.index(decision.priority) >= PRIORITIES.index(row.priority):
            continue
        # Compare and set: another replica may be doing the same right now.
        changed = session.execute(
            update(Incident)
            .where(Incident.id == row.id, Incident.priority == row.priority)
            .values(
                priority=decision.priority,
                explanation=decision.explanation,
                explanation_msg=stored(decision.explanation),
            )
        ).rowcount  # type: ignore[attr-defined]
        if changed:
            record(
                session,
                row.id,
                "priority_changed",
                T(
                    "priority raised {before} -> {after} as time moved: {why}",
                    before=row.priority,
                    after=decision.priority,
                    why=decision.explanation,
                ),
                at=now,
            )
            tell_assignee(router, row.id, f"priority raised to {decision.priority}", session=session, now=now)
            raised += 1
    return raised

"""Raise the priority of open incidents as the clock moves: clinics open, a holiday ends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import INCIDENTS, OPEN, Incident
from alertrouter.msg import T, stored
from alertrouter.notify.queue import tell_assignee
from alertrouter.settings import PRIORITIES
from alertrouter.timeline import record


class Decided:
    """The open root incidents already re-decided in the current minute.

    A priority is decided to the minute from fixed things (the CI, the severity, the alert, the inventory
    and policy loaded at start-up), so deciding one again in the same minute gives the same answer: each pass
    re-decides only the incidents it has not seen this minute (new, reopened, or no longer grouped) instead of
    every open incident every few seconds.
    """

    def __init__(self) -> None:
        self.minute: dt.datetime | None = None
        self.ids: set[int] = set()

    def this_minute(self, now: dt.datetime) -> set[int]:
        """Return the ids decided in `now`'s minute (none when the minute has changed)."""
        minute = now.replace(second=0, microsecond=0)
        if minute != self.minute:
            self.minute, self.ids = minute, set()
        return self.ids


def reassess_open(
    router: Router, *, session: Session, now: dt.datetime, decided: set[int] | None = None
) -> int:
    """Re-decide open root incidents' priority now (but those in `decided`); raise when higher, never lower.

    The ids re-decided are added to `decided`; the caller keeps them only once the transaction has committed.
    """
    inc = INCIDENTS.c  # Core rows: thousands of open incidents are read every pass
    rows = (
        session.connection()
        .execute(
            select(inc.id, inc.ci, inc.severity, inc.priority, inc.alertname).where(
                inc.status.in_(OPEN), inc.ci.is_not(None), inc.parent_id.is_(None)
            )
        )
        .all()
    )
    raised = 0
    for row in rows:
        if decided is not None:
            if row.id in decided:
                continue
            decided.add(row.id)
        which = {"ci": row.ci, "severity": row.severity, "at": now, "alertname": row.alertname}
        if PRIORITIES.index(router.assessor.priority(**which)) >= PRIORITIES.index(row.priority):
            continue
        decision = router.assessor.assess(**which)
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
            tell_assignee(
                router,
                row.id,
                T("priority raised to {priority}", priority=decision.priority),
                session=session,
                now=now,
            )
            raised += 1
    return raised

"""End alerts (resolves, and copies of an alert a resolve ends); resolve incidents; release their children."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from alertrouter.db import is_postgres
from alertrouter.models import ALERTS, EVENTS, OPEN, Incident, Status
from alertrouter.msg import T, msg_data

Key = tuple[str, dt.datetime]
Ending = tuple[int, "dt.datetime | None", str]
"""Alert id, its end, and why it ended."""


def end_alerts(endings: Iterable[Ending], *, session: Session, now: dt.datetime) -> list[Row[Any] | None]:
    """Mark firing alerts resolved (compare and set); write the timeline; resolve emptied incidents."""
    stmt = (
        update(ALERTS)
        .where(ALERTS.c.id == bindparam("aid"), ALERTS.c.status == "firing")
        .values(status="resolved", ends_at=bindparam("ends"))
        .returning(ALERTS.c.id, ALERTS.c.incident_id, ALERTS.c.alertname, ALERTS.c.ci)
    )
    changed: list[Row[Any] | None] = []
    events = []
    for alert_id, ends, why in endings:
        row = session.execute(stmt, {"aid": alert_id, "ends": ends}).one_or_none()
        changed.append(row)
        if row is not None and row.incident_id is not None:
            events.append(
                {
                    "incident_id": row.incident_id,
                    "at": now,
                    "kind": "alert_resolved",
                    "actor": "router",
                    "text": (text := T("{alert} on {ci} {why}", alert=row.alertname, ci=row.ci, why=why)),
                    "data": {"alert_id": row.id, **msg_data(text)},
                }
            )
    if events:
        session.execute(EVENTS.insert(), events)
    for incident_id in sorted({e["incident_id"] for e in events}):
        maybe_resolve(incident_id, session=session, now=now)
    return changed


def maybe_resolve(incident_id: int, *, session: Session, now: dt.datetime) -> None:
    """Resolve an open incident once none of its alerts is firing."""
    if is_postgres(session):
        # Serialise with other replicas resolving this incident's other alerts, or both could miss it.
        session.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update())
    firing = session.execute(
        select(func.count())
        .select_from(ALERTS)
        .where(ALERTS.c.incident_id == incident_id, ALERTS.c.status == "firing")
    ).scalar_one()
    if firing:
        return
    done = session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status.in_(OPEN))
        .values(status=Status.resolved, resolved_at=now, open_key=None, next_escalation_at=None)
        .returning(Incident.escalation_step)
    ).scalar_one_or_none()
    if done is not None:
        release_children(incident_id, session=session, now=now)
        # Step 0: no page went out since paging (re)started: held, grouped under its cause, or released
        # and back within the grace. Say so, so the morning review sees why nobody was woken.
        text = (
            T("resolved: all alerts resolved; it recovered before a page went out for it")
            if done == 0
            else T("resolved: all alerts resolved")
        )
        session.execute(
            EVENTS.insert().values(
                incident_id=incident_id,
                at=now,
                kind="resolved",
                actor="router",
                text=text,
                data=msg_data(text),
            )
        )


def release_children(incident_id: int, *, session: Session, now: dt.datetime) -> None:
    """Let the incidents a resolved root had taken over page again, from step 1, if they are still failing.

    A child may have been paged (step 1) before its root was known; released, it is a fault of its own now
    and its escalation starts over: the on-call first, the later steps counted from the release. The worker
    holds that first page for the policy's release grace and pages the children of one team together
    (`alertrouter.worker.hold`, `alertrouter.worker.escalation`).
    """
    children = (
        session.execute(
            update(Incident)
            .where(Incident.parent_id == incident_id, Incident.status == Status.triggered)
            .values(next_escalation_at=now, escalation_step=0)
            .returning(Incident.id)
        )
        .scalars()
        .all()
    )
    if children:
        released = T(
            "root cause #{root} resolved; this one still fails: "
            "paged unless it recovers within the release grace",
            root=incident_id,
        )
        session.execute(
            EVENTS.insert(),
            [
                {
                    "incident_id": child,
                    "at": now,
                    "kind": "released",
                    "actor": "router",
                    "text": released,
                    "data": {"parent_id": incident_id, **msg_data(released)},
                }
                for child in children
            ],
        )

"""Incident services: read, filter, acknowledge, assign, resolve, reopen, close, annotate. Views call these.

The lifecycle is triggered -> acknowledged -> resolved -> closed; `reopen` returns a resolved or closed
incident to triggered. Each change is one function here writing one timeline entry; docs/router.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.db import is_postgres
from alertrouter.errors import ApiError, NotFound
from alertrouter.intake.ending import release_children
from alertrouter.models import OPEN, Alert, Event, Incident, IncidentDepartment, Status
from alertrouter.msg import N_, Joined, T
from alertrouter.timeline import record


@dataclass(frozen=True)
class IncidentFilter:
    """What to list; None means any."""

    status: Sequence[str] | None = None
    priority: Sequence[str] | None = None
    team: str | None = None
    service: str | None = None
    department: str | None = None
    ci: str | None = None
    limit: int = 100
    offset: int = 0


def get_incident_or_raise(incident_id: int, *, session: Session, lock: bool = False) -> Incident:
    """Return an incident or raise NotFound."""
    query = select(Incident).where(Incident.id == incident_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    incident = session.execute(query).scalar_one_or_none()
    if incident is None:
        raise NotFound(T("no incident {id}", id=incident_id))
    return incident


def list_incidents(flt: IncidentFilter, *, session: Session) -> list[Incident]:
    """Return incidents matching a filter, most urgent open first, then newest."""
    query = select(Incident)
    if flt.status:
        query = query.where(Incident.status.in_(flt.status))
    if flt.priority:
        query = query.where(Incident.priority.in_(flt.priority))
    if flt.team:
        query = query.where(Incident.team == flt.team)
    if flt.service:
        query = query.where(Incident.service == flt.service)
    if flt.ci:
        query = query.where(Incident.ci == flt.ci)
    if flt.department:
        query = query.where(
            Incident.id.in_(
                select(IncidentDepartment.incident_id).where(IncidentDepartment.department == flt.department)
            )
        )
    query = query.order_by(Incident.priority, Incident.created_at.desc()).limit(flt.limit).offset(flt.offset)
    return list(session.execute(query).scalars())


def timeline_of(incident_id: int, *, session: Session) -> list[Event]:
    """Return an incident's timeline, oldest first."""
    query = select(Event).where(Event.incident_id == incident_id).order_by(Event.at, Event.id)
    return list(session.execute(query).scalars())


def alerts_of(incident_id: int, *, session: Session) -> list[Alert]:
    """Return the alerts of an incident, oldest first."""
    query = select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.starts_at, Alert.id)
    return list(session.execute(query).scalars())


def children_of(incident_id: int, *, session: Session) -> list[int]:
    """Return the ids of incidents caused by this one."""
    return list(session.execute(select(Incident.id).where(Incident.parent_id == incident_id)).scalars())


def refuse_unless_open(inc: Incident, refusal: str) -> None:
    """Refuse (409) an action on an ended incident; `refusal` is a template (N_) with {id} and {status}."""
    if inc.status not in OPEN:
        raise ApiError(409, T(refusal, id=inc.id, status=T(inc.status)))


def acknowledge(incident_id: int, *, session: Session, by: str, now: dt.datetime) -> Incident:
    """Acknowledge a triggered incident; escalation stops."""
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    if inc.status != Status.triggered:
        raise ApiError(
            409, T("incident {id} is {status}, not triggered", id=incident_id, status=T(inc.status))
        )
    inc.status, inc.acknowledged_at, inc.acknowledged_by = Status.acknowledged, now, by
    inc.next_escalation_at = None
    record(session, inc.id, "acknowledged", T("acknowledged by {by}", by=by), at=now, actor=by)
    return inc


def assign(incident_id: int, *, session: Session, to: str, by: str, now: dt.datetime) -> Incident:
    """Hand an open incident to a person."""
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    refuse_unless_open(inc, N_("incident {id} is {status}; only open incidents are assigned"))
    before = inc.assignee
    inc.assignee = to
    record(
        session,
        inc.id,
        "assigned",
        T("assigned to {to} by {by} (was {before})", to=to, by=by, before=before or T("nobody")),
        at=now,
        actor=by,
        data={"from": before, "to": to},
    )
    return inc


def resolve(incident_id: int, *, session: Session, by: str, note: str, now: dt.datetime) -> Incident:
    """Resolve an open incident by hand, with a note saying what fixed it."""
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    if inc.status not in OPEN:
        raise ApiError(409, T("incident {id} is already {status}", id=incident_id, status=T(inc.status)))
    inc.status, inc.resolved_at, inc.open_key, inc.next_escalation_at = Status.resolved, now, None, None
    session.flush()
    release_children(inc.id, session=session, now=now)
    firing = session.execute(
        select(Alert.alertname, Alert.ci).where(Alert.incident_id == inc.id, Alert.status == "firing")
    ).all()
    text = T("resolved by {by}: {note}", by=by, note=note) if note else T("resolved by {by}", by=by)
    if firing:
        # Say so now: the incident reopens when Alertmanager next sends one of them (docs/router.md).
        names = Joined(
            tuple(
                T("{alert} on {ci}", alert=a, ci=c) for a, c in sorted({(a.alertname, a.ci) for a in firing})
            )
        )
        text = T("{resolved}; still firing: {names}", resolved=text, names=names)
    record(session, inc.id, "resolved", text, at=now, actor=by, data={"note": note, "firing": len(firing)})
    return inc


def reopen(
    incident_id: int, *, session: Session, by: str, why: str, now: dt.datetime, key: str | None = None
) -> Incident:
    """Reopen a resolved or closed incident: triggered again, paged from the first escalation step.

    `key` is the open key the incident takes back (its CI's), unless another incident holds it by now. An
    incident whose cause (parent) is still open stays quiet under it, as when it was first grouped.
    """
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    if inc.status in OPEN:
        raise ApiError(
            409, T("incident {id} is {status}, not resolved or closed", id=incident_id, status=T(inc.status))
        )
    inc.status, inc.resolved_at, inc.closed_at = Status.triggered, None, None
    inc.acknowledged_at = inc.acknowledged_by = None
    parent = session.get(Incident, inc.parent_id) if inc.parent_id else None
    inc.escalation_step = 0
    inc.next_escalation_at = None if parent is not None and parent.status in OPEN else now
    held = session.execute(select(Incident.id).where(Incident.open_key == key)).scalar() if key else None
    if key is not None and held is None:
        inc.open_key = key
    elif held is not None:
        why = T("{why}; incident #{held} holds {key} now, new alerts go there", why=why, held=held, key=key)
    session.flush()
    record(session, inc.id, "reopened", T("reopened by {by}: {why}", by=by, why=why), at=now, actor=by)
    return inc


def close(incident_id: int, *, session: Session, by: str, note: str, now: dt.datetime) -> Incident:
    """Close a resolved incident: nothing more to do."""
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    if inc.status != Status.resolved:
        raise ApiError(
            409, T("incident {id} is {status}; resolve it first", id=incident_id, status=T(inc.status))
        )
    inc.status, inc.closed_at = Status.closed, now
    record(
        session,
        inc.id,
        "closed",
        T("closed by {by}: {note}", by=by, note=note) if note else T("closed by {by}", by=by),
        at=now,
        actor=by,
        data={"note": note},
    )
    return inc


def add_note(incident_id: int, *, session: Session, by: str, text: str, now: dt.datetime) -> Event:
    """Add a note to an incident's timeline."""
    inc = get_incident_or_raise(incident_id, session=session)
    event = Event(incident_id=inc.id, at=now, kind="note", actor=by, text=text, data={})
    session.add(event)
    session.flush()
    return event

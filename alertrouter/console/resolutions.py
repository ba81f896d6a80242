"""Resolving with a root cause: the router's resolve, plus category, fix, time spent, article and problems."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from alertrouter import incidents as svc
from alertrouter.console import kb, problems
from alertrouter.console.models import Cause, Resolution
from alertrouter.models import OPEN, Incident


@dataclass(frozen=True)
class ProblemRule:
    """How many incidents on one CI and alert within how many days make a problem."""

    times: int = 3
    days: int = 30


def resolve_with_cause(
    incident_id: int,
    *,
    session: Session,
    by: str,
    cause: Cause,
    fix: str,
    minutes: int,
    to_kb: bool,
    now: dt.datetime,
    rule: ProblemRule,
) -> Resolution:
    """Resolve an open incident (or file the cause of one Alertmanager already resolved)."""
    inc = svc.get_incident_or_raise(incident_id, session=session, lock=True)
    if inc.status in OPEN:
        svc.resolve(incident_id, session=session, by=by, note=fix, now=now)
    else:
        svc.add_note(incident_id, session=session, by=by, text=f"root cause {cause.value}: {fix}", now=now)
    res = session.get(Resolution, incident_id)
    if res is None:
        res = Resolution(
            incident_id=incident_id, cause=cause.value, fix=fix, minutes_spent=minutes, by=by, at=now
        )
        session.add(res)
    else:
        res.cause, res.fix, res.minutes_spent, res.by, res.at = cause.value, fix, minutes, by, now
    if to_kb and fix.strip():
        kb.article_from_resolution(inc, cause=cause.value, fix=fix, session=session, author=by, now=now)
    problems.scan(
        session=session, now=now, times=rule.times, days=rule.days, ci=inc.ci, alertname=inc.alertname
    )
    session.flush()
    return res


def earlier(
    inc: Incident, *, session: Session, limit: int = 10, same_ci_only: bool = False
) -> list[tuple[Incident, Resolution | None]]:
    """Return incidents that ended before this one began, on its CI first, then of its alert elsewhere.

    An incident still open when this one opened is not an earlier occurrence: during a storm many CIs fail
    together, and those are concurrent, different incidents (nor is this one's cause or a child of it).
    """
    same = []
    if inc.ci:
        same.append(Incident.ci == inc.ci)
    if inc.alertname and not same_ci_only:
        same.append(Incident.alertname == inc.alertname)
    if not same:
        return []
    stmt = (
        select(Incident, Resolution)
        .outerjoin(Resolution, Resolution.incident_id == Incident.id)
        .where(
            or_(*same),
            Incident.id != inc.id,
            Incident.resolved_at.is_not(None),
            Incident.resolved_at <= inc.created_at,
            Incident.id != (inc.parent_id or 0),
            or_(Incident.parent_id.is_(None), Incident.parent_id != inc.id),
        )
        .order_by(case((Incident.ci == inc.ci, 0), else_=1), Incident.created_at.desc())
        .limit(limit)
    )
    return [(i, r) for i, r in session.execute(stmt).all()]

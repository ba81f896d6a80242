"""Problems: the same CI and alert back N times in M days, grouped into one record with a root cause."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alertrouter.console.models import Problem, ProblemIncident
from alertrouter.errors import NotFound
from alertrouter.models import Incident
from alertrouter.msg import T

STATUSES = ("open", "known_error", "resolved")


def scan(
    *,
    session: Session,
    now: dt.datetime,
    times: int,
    days: int,
    ci: str | None = None,
    alertname: str | None = None,
) -> list[Problem]:
    """Open or update a problem for every CI and alert seen at least `times` times in `days` days."""
    since = now - dt.timedelta(days=days)
    stmt = (
        select(Incident.ci, Incident.alertname, func.count(), func.min(Incident.created_at))
        .where(Incident.created_at >= since, Incident.parent_id.is_(None))
        .group_by(Incident.ci, Incident.alertname)
        .having(func.count() >= times)
    )
    if ci is not None:
        stmt = stmt.where(Incident.ci == ci)
    if alertname is not None:
        stmt = stmt.where(Incident.alertname == alertname)
    touched = []
    for row_ci, row_alert, _count, _first in session.execute(stmt).all():
        problem = session.execute(
            select(Problem).where(
                Problem.ci.is_(None) if row_ci is None else Problem.ci == row_ci,
                Problem.alertname == row_alert,
                Problem.status != "resolved",
            )
        ).scalar_one_or_none()
        if problem is None:
            problem = Problem(
                ci=row_ci,
                alertname=row_alert,
                status="open",
                root_cause="",
                occurrences=0,
                first_seen=now,
                last_seen=now,
                created_at=now,
            )
            session.add(problem)
            session.flush()
        linked = set(
            session.execute(
                select(ProblemIncident.incident_id).where(ProblemIncident.problem_id == problem.id)
            ).scalars()
        )
        incidents = session.execute(
            select(Incident.id, Incident.created_at).where(
                Incident.ci.is_(None) if row_ci is None else Incident.ci == row_ci,
                Incident.alertname == row_alert,
                Incident.created_at >= (problem.first_seen if linked else since),
                Incident.parent_id.is_(None),
            )
        ).all()
        for inc_id, _at in incidents:
            if inc_id not in linked:
                session.add(ProblemIncident(problem_id=problem.id, incident_id=inc_id))
                linked.add(inc_id)
        times_seen = [at for _id, at in incidents]
        problem.occurrences = len(linked)
        if times_seen:
            problem.first_seen = min(*times_seen, problem.first_seen)
            problem.last_seen = max(times_seen)
        touched.append(problem)
    session.flush()
    return touched


def list_problems(*, session: Session, status: str | None = None) -> list[Problem]:
    """Return problems, most recent first."""
    stmt = select(Problem).order_by(Problem.last_seen.desc())
    if status:
        stmt = stmt.where(Problem.status == status)
    return list(session.execute(stmt).scalars())


def get_problem_or_raise(problem_id: int, *, session: Session) -> Problem:
    """Return a problem or raise NotFound."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound(T("no problem {id}", id=problem_id))
    return problem


def incidents_of(problem_id: int, *, session: Session) -> list[Incident]:
    """Return a problem's incidents, newest first."""
    stmt = (
        select(Incident)
        .join(ProblemIncident, ProblemIncident.incident_id == Incident.id)
        .where(ProblemIncident.problem_id == problem_id)
        .order_by(Incident.created_at.desc())
    )
    return list(session.execute(stmt).scalars())


def problem_of(incident_id: int, *, session: Session) -> Problem | None:
    """Return the problem an incident is counted in, if any."""
    stmt = (
        select(Problem)
        .join(ProblemIncident, ProblemIncident.problem_id == Problem.id)
        .where(ProblemIncident.incident_id == incident_id)
    )
    return session.execute(stmt).scalars().first()

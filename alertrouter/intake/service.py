"""Store webhook alerts: idempotent on fingerprint and start, grouped under their root CI's incident."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.intake.parser import ParsedAlert, WebhookMessage
from alertrouter.models import OPEN, Alert, Delivery, Incident, IncidentDepartment, Status
from alertrouter.owner import owner_of
from alertrouter.policy.priority import Decision
from alertrouter.settings import PRIORITIES
from alertrouter.timeline import record


@dataclass
class IngestResult:
    """What one delivery changed, by outcome: new, repeat, resolved, stale."""

    outcomes: Counter[str] = field(default_factory=Counter)
    incidents: set[int] = field(default_factory=set)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def open_key(alert: ParsedAlert) -> str:
    """Return the key that keeps one open incident per root: the CI, else the alert's fingerprint."""
    return f"ci:{alert.ci}" if alert.ci else f"fp:{alert.fingerprint}"


def ingest(message: WebhookMessage, *, session: Session, router: Router, now: dt.datetime) -> IngestResult:
    """Store every alert of a delivery in the session's transaction; the caller commits."""
    result = IngestResult()
    # Roots before the CIs that depend on them, so dependents join the root's incident in one delivery;
    # and one total order for every replica, so two transactions never wait on each other crosswise.
    depth = router.assessor.depth
    ordered = sorted(message.alerts, key=lambda a: (depth(a.ci), a.fingerprint, a.starts_at))
    for alert in ordered:
        ingest_alert(alert, session=session, router=router, now=now, result=result)
    if message.truncated_alerts:
        fetch = "pending" if router.settings.file.alertmanager.url else None
        session.add(
            Delivery(
                received_at=now,
                receiver=message.receiver,
                group_key=message.group_key,
                status=message.status,
                alerts=len(message.alerts),
                truncated=message.truncated_alerts,
                group_labels=message.group_labels,
                fetch_status=fetch,
            )
        )
    return result


def ingest_alert(
    alert: ParsedAlert, *, session: Session, router: Router, now: dt.datetime, result: IngestResult
) -> None:
    """Insert a new alert or update the one already stored."""
    severity = router.assessor.severity_of(alert.severity)
    values = dict(
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        status=alert.status,
        alertname=alert.alertname,
        severity=severity,
        ci=alert.ci,
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generator_url,
        first_received_at=now,
        last_received_at=now,
        receive_count=1,
    )
    stmt = _insert(session)(Alert).values(**values).on_conflict_do_nothing().returning(Alert.id)
    new_id = session.execute(stmt).scalar()
    if new_id is not None:
        incident_id = _route_new(alert, new_id, session=session, router=router, now=now)
        result.outcomes["new"] += 1
        result.incidents.add(incident_id)
        return
    query = select(Alert.id, Alert.status, Alert.incident_id).where(
        Alert.fingerprint == alert.fingerprint, Alert.starts_at == alert.starts_at
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).one()
    changes: dict[str, Any] = {"last_received_at": now, "receive_count": Alert.receive_count + 1}
    if row.status == "firing" and alert.status == "resolved":
        changes.update(status="resolved", ends_at=alert.ends_at)
        outcome = "resolved"
    elif row.status == "resolved" and alert.status == "firing":
        outcome = "stale"  # a late re-send of a firing that already ended; the resolve stands
    else:
        outcome = "repeat"
    session.execute(update(Alert).where(Alert.id == row.id).values(**changes))
    result.outcomes[outcome] += 1
    if row.incident_id is not None:
        result.incidents.add(row.incident_id)
        if outcome == "resolved":
            record(
                session,
                row.incident_id,
                "alert_resolved",
                f"{alert.alertname} on {alert.ci} resolved",
                at=now,
                data={"alert_id": row.id},
            )
            _maybe_resolve(row.incident_id, session=session, now=now)


def _route_new(
    alert: ParsedAlert, alert_id: int, *, session: Session, router: Router, now: dt.datetime
) -> int:
    """Attach a newly seen alert to its incident, opening one when needed; return the incident id."""
    decision = router.assessor.assess(ci=alert.ci, severity=alert.severity, at=alert.starts_at)
    key = open_key(alert)
    inv = router.inventory
    upstream = inv.depends_on_transitively(alert.ci) if alert.ci in inv.cis else []
    keys = [key, *(f"ci:{c}" for c in upstream)]
    found = {
        r.open_key: r
        for r in session.execute(
            select(Incident.id, Incident.open_key, Incident.priority).where(Incident.open_key.in_(keys))
        )
    }
    target = next((found[k] for k in keys if k in found), None)
    what = f"{alert.alertname} on {alert.ci or 'no CI'}"
    incident_id: int | None = None
    if target is None:
        incident_id = _open(alert, decision, key, session=session, router=router, now=now)
        if incident_id is None:  # another replica opened it a moment ago
            target = session.execute(
                select(Incident.id, Incident.open_key, Incident.priority).where(Incident.open_key == key)
            ).one()
    if target is not None:
        incident_id = target.id
        cause = target.open_key.removeprefix("ci:") if target.open_key != key else None
        text = f"{what} {alert.status}" + (f", caused by {cause}" if cause else "")
        record(
            session,
            incident_id,
            "alert_" + alert.status,
            text,
            at=now,
            data={"alert_id": alert_id, "caused_by": cause},
        )
        if PRIORITIES.index(decision.priority) < PRIORITIES.index(target.priority):
            session.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(priority=decision.priority, explanation=decision.explanation)
            )
            record(
                session,
                incident_id,
                "priority_changed",
                f"priority raised {target.priority} -> {decision.priority} by {what}: {decision.explanation}",
                at=now,
            )
        session.execute(update(Incident).where(Incident.id == incident_id).values(last_alert_at=now))
    assert incident_id is not None
    session.execute(update(Alert).where(Alert.id == alert_id).values(incident_id=incident_id))
    if alert.status == "resolved":
        _maybe_resolve(incident_id, session=session, now=now)
    return incident_id


def _open(
    alert: ParsedAlert, decision: Decision, key: str, *, session: Session, router: Router, now: dt.datetime
) -> int | None:
    """Open an incident for a root CI; return None if another transaction holds the key."""
    owner = owner_of(router.inventory, router.policy, alert.ci, alert.starts_at)
    firing = alert.status == "firing"
    summary = alert.annotations.get("summary", "")
    title = f"{alert.alertname} on {alert.ci or 'no CI'}" + (f": {summary}" if summary else "")
    values = dict(
        title=title[:300],
        status=Status.triggered if firing else Status.resolved,
        priority=decision.priority,
        explanation=decision.explanation,
        owner_explanation=owner.explanation,
        severity=alert.severity or "",
        alertname=alert.alertname,
        ci=alert.ci,
        service=decision.service,
        team=owner.team,
        assignee=owner.person,
        open_key=key if firing else None,
        created_at=now,
        last_alert_at=now,
        escalation_step=0,
        next_escalation_at=now if firing else None,
        resolved_at=None if firing else now,
    )
    stmt = _insert(session)(Incident).values(**values).on_conflict_do_nothing().returning(Incident.id)
    incident_id: int | None = session.execute(stmt).scalar()
    if incident_id is None:
        return None
    if decision.departments:
        session.execute(
            _insert(session)(IncidentDepartment),
            [
                {"incident_id": incident_id, "department": d, "position": i}
                for i, d in enumerate(decision.departments)
            ],
        )
    record(
        session,
        incident_id,
        "opened",
        f"opened {decision.explanation}; {owner.explanation}",
        at=now,
        data={"priority": decision.priority, "team": owner.team, "assignee": owner.person},
    )
    if firing and alert.ci in router.inventory.cis:
        _adopt(incident_id, alert.ci, session=session, router=router, now=now)
    return incident_id


def _adopt(root_id: int, ci: str, *, session: Session, router: Router, now: dt.datetime) -> None:
    """Make open incidents of CIs depending on `ci` children of the root's incident; stop paging them."""
    keys = [f"ci:{c}" for c in router.inventory.dependents(ci)]
    if not keys:
        return
    children = session.execute(
        select(Incident.id, Incident.ci).where(
            Incident.open_key.in_(keys), Incident.parent_id.is_(None), Incident.id != root_id
        )
    ).all()
    for child in children:
        session.execute(
            update(Incident).where(Incident.id == child.id).values(parent_id=root_id, next_escalation_at=None)
        )
        record(
            session,
            child.id,
            "grouped",
            f"caused by {ci}: joined incident #{root_id}",
            at=now,
            data={"parent_id": root_id},
        )
        record(
            session,
            root_id,
            "grouped",
            f"incident #{child.id} on {child.ci} is caused by {ci}",
            at=now,
            data={"child_id": child.id},
        )


def _maybe_resolve(incident_id: int, *, session: Session, now: dt.datetime) -> None:
    """Resolve an open incident once none of its alerts is firing."""
    firing = session.execute(
        select(func.count())
        .select_from(Alert)
        .where(Alert.incident_id == incident_id, Alert.status == "firing")
    ).scalar_one()
    if firing:
        return
    done = session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status.in_(OPEN))
        .values(status=Status.resolved, resolved_at=now, open_key=None, next_escalation_at=None)
    ).rowcount  # type: ignore[attr-defined]
    if done:
        record(session, incident_id, "resolved", "resolved: all alerts resolved", at=now)

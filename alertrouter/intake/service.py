"""Store webhook alerts: idempotent on fingerprint and start, grouped under their root CI's incident.

One delivery costs a handful of statements whatever its size: look up the alerts already stored, look up the
open incidents their CIs (and the CIs upstream) could join, open the missing incidents, insert the new alerts
in one statement, then write the timeline in one statement.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from alertrouter.console.releases import screen as screen_releases
from alertrouter.context import Router
from alertrouter.db import insert_for
from alertrouter.incidents import reopen
from alertrouter.intake.copies import also_ended, copy_of
from alertrouter.intake.ending import Key, end_alerts, maybe_resolve
from alertrouter.intake.grouping import Planner, open_key
from alertrouter.intake.parser import ParsedAlert, WebhookMessage
from alertrouter.intake.redact import redact_message
from alertrouter.models import ALERTS, EVENTS, OPEN, Delivery, Incident, Status
from alertrouter.msg import Joined, T, msg_data


@dataclass
class IngestResult:
    """What one delivery changed, by outcome: new, repeat, resolved, stale."""

    outcomes: Counter[str] = field(default_factory=Counter)
    incidents: set[int] = field(default_factory=set)


def key_of(alert: ParsedAlert) -> Key:
    """Return the identity of an alert: fingerprint and start."""
    return alert.fingerprint, alert.starts_at


def ingest(message: WebhookMessage, *, session: Session, router: Router, now: dt.datetime) -> IngestResult:
    """Store every alert of a delivery in the session's transaction; the caller commits."""
    message = redact_message(message, router.guard)
    # A version change a release record explains is linked to it and opens no incident.
    message = screen_releases(message, session=session, inventory=router.inventory, now=now)
    result = IngestResult()
    unique = list({key_of(a): a for a in message.alerts}.values())
    # Roots before the CIs that depend on them, so dependents join the root's incident in one delivery;
    # and one total order for every replica, so two transactions never wait on each other crosswise.
    depth = router.assessor.depth
    unique.sort(key=lambda a: (depth(a.ci), a.fingerprint, a.starts_at))
    stored, siblings = _stored(unique, session)
    for alert in unique:  # the same alert with another start: one of an HA pair's copies (copies.py)
        if key_of(alert) not in stored:
            row = copy_of(alert, siblings.get(alert.fingerprint, []))
            if row is not None:
                stored[key_of(alert)] = row
    fresh = [a for a in unique if key_of(a) not in stored]
    if fresh:
        inserted = _insert_new(fresh, session=session, router=router, now=now, result=result)
        raced = [a for a in fresh if key_of(a) not in inserted]
        if raced:  # another replica stored them a moment ago: they are repeats here
            stored.update(_stored(raced, session)[0])
    _update_stored(
        [a for a in unique if key_of(a) in stored],
        stored,
        siblings,
        session=session,
        router=router,
        now=now,
        result=result,
    )
    if message.truncated_alerts:
        session.add(
            Delivery(
                received_at=now,
                receiver=message.receiver,
                group_key=message.group_key,
                status=message.status,
                alerts=len(message.alerts),
                truncated=message.truncated_alerts,
                group_labels=message.group_labels,
                fetch_status="pending" if router.settings.file.alertmanager.url else None,
            )
        )
    return result


def _stored(alerts: list[ParsedAlert], session: Session) -> tuple[dict[Key, Any], dict[str, list[Any]]]:
    """Return the stored rows of these alerts, and every stored row sharing a fingerprint with them."""
    fingerprints = sorted({a.fingerprint for a in alerts})
    wanted = {key_of(a) for a in alerts}
    rows = session.execute(
        select(
            ALERTS.c.id,
            ALERTS.c.fingerprint,
            ALERTS.c.starts_at,
            ALERTS.c.ends_at,
            ALERTS.c.status,
            ALERTS.c.incident_id,
            Incident.status.label("incident_status"),
        )
        .select_from(ALERTS.outerjoin(Incident, Incident.id == ALERTS.c.incident_id))
        .where(ALERTS.c.fingerprint.in_(fingerprints))
    )
    found = {}
    siblings: dict[str, list[Any]] = {}
    for row in rows:
        if (row.fingerprint, row.starts_at) in wanted:
            found[(row.fingerprint, row.starts_at)] = row
        else:
            siblings.setdefault(row.fingerprint, []).append(row)
    return found, siblings


def _insert_new(
    fresh: list[ParsedAlert],
    *,
    session: Session,
    router: Router,
    now: dt.datetime,
    result: IngestResult,
) -> set[Key]:
    """Route and insert alerts not stored yet; return the keys this transaction inserted."""
    planner = Planner(router, session=session, now=now)
    planner.prefetch(fresh)
    plans = [planner.route(a) for a in fresh]
    rows = [
        {
            "fingerprint": a.fingerprint,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "status": a.status,
            "alertname": a.alertname,
            "severity": router.assessor.severity_of(a.severity),
            "ci": a.ci,
            "labels": a.labels,
            "annotations": a.annotations,
            "generator_url": a.generator_url,
            "redactions": list(a.redactions),
            "incident_id": p.incident_id,
            "first_received_at": now,
            "last_received_at": now,
            "receive_count": 1,
        }
        for a, p in zip(fresh, plans, strict=True)
    ]
    stmt = (
        insert_for(session)(ALERTS)
        .on_conflict_do_nothing()
        .returning(ALERTS.c.id, ALERTS.c.fingerprint, ALERTS.c.starts_at, sort_by_parameter_order=True)
    )
    returned = session.execute(stmt, rows).all()
    inserted = {(r.fingerprint, r.starts_at): r.id for r in returned}
    per_alert: list[dict[str, Any]] = []
    touched: set[int] = set()
    resolved: set[int] = set()
    for alert, plan in zip(fresh, plans, strict=True):
        alert_id = inserted.get(key_of(alert))
        if alert_id is None:
            continue
        result.outcomes["new"] += 1
        result.incidents.add(plan.incident_id)
        touched.add(plan.incident_id)
        for event in plan.events:
            per_alert.append({**event, "data": {**event["data"], "alert_id": alert_id}})
        if alert.redactions:
            per_alert.append(_redacted_event(alert, alert_id, plan.incident_id, now))
        if alert.status == "resolved":
            resolved.add(plan.incident_id)
    orphans = planner.opened - touched
    if orphans:  # opened for alerts another replica stored first: undo them and any grouping under them
        # A child left without its cause pages on its own again (it would otherwise never be paged).
        session.execute(
            update(Incident)
            .where(Incident.parent_id.in_(orphans))
            .values(
                parent_id=None,
                next_escalation_at=case((Incident.status == Status.triggered, now), else_=None),
            )
        )
        session.execute(delete(Incident).where(Incident.id.in_(orphans)))
    events = [
        e
        for e in planner.events
        if e["incident_id"] not in orphans
        and e["data"].get("parent_id") not in orphans
        and e["data"].get("child_id") not in orphans
    ] + per_alert
    if events:
        session.execute(EVENTS.insert(), events)
    # Joining an incident never updates its row, so concurrent deliveries into one incident never queue.
    planner.apply_raises()
    for incident_id in sorted(resolved):
        maybe_resolve(incident_id, session=session, now=now)
    return set(inserted)


def _redacted_event(alert: ParsedAlert, alert_id: int, incident_id: int, now: dt.datetime) -> dict[str, Any]:
    """Say on the timeline that the PHI guard replaced values of this alert: where and why, not what."""
    text = T(
        "{alert}: the PHI guard replaced {count} value(s) with [redacted] ({where})",
        alert=alert.alertname,
        count=len(alert.redactions),
        where=Joined(tuple(alert.redactions), "; "),
    )
    return {
        "incident_id": incident_id,
        "at": now,
        "kind": "redacted",
        "actor": "router",
        "text": text,
        "data": {"alert_id": alert_id, "redactions": list(alert.redactions), **msg_data(text)},
    }


def _update_stored(
    alerts: list[ParsedAlert],
    stored: dict[Key, Any],
    siblings: dict[str, list[Any]],
    *,
    session: Session,
    router: Router,
    now: dt.datetime,
    result: IngestResult,
) -> None:
    """Count repeats; move firing alerts to resolved; ignore a stale firing after its resolve; reopen."""
    if not alerts:
        return
    ids = [stored[key_of(a)].id for a in alerts]
    session.execute(
        update(ALERTS)
        .where(ALERTS.c.id.in_(ids))
        .values(last_received_at=now, receive_count=ALERTS.c.receive_count + 1)
    )
    to_resolve: list[tuple[int, dt.datetime | None, str]] = []
    copies: list[tuple[int, dt.datetime | None, str]] = []
    still_firing: dict[int, ParsedAlert] = {}
    for alert in alerts:
        row = stored[key_of(alert)]
        if row.incident_id is not None:
            result.incidents.add(row.incident_id)
        if alert.status == "resolved":
            if row.status == "firing":
                to_resolve.append((row.id, alert.ends_at, T("resolved")))
            else:
                result.outcomes["repeat"] += 1
            copies += also_ended(alert, row.id, siblings.get(alert.fingerprint, []))
        elif row.status == "resolved":
            result.outcomes["stale"] += 1  # a late re-send of a firing that already ended; the resolve stands
        else:
            result.outcomes["repeat"] += 1
            if row.incident_id is not None:
                still_firing.setdefault(row.incident_id, alert)
    for row in end_alerts(to_resolve, session=session, now=now):
        result.outcomes["resolved" if row is not None else "repeat"] += 1
    ending = {e[0] for e in to_resolve}
    end_alerts([e for e in copies if e[0] not in ending], session=session, now=now)
    _reopen_ended(still_firing, session=session, router=router, now=now)


def _reopen_ended(
    firing: dict[int, ParsedAlert], *, session: Session, router: Router, now: dt.datetime
) -> None:
    """Reopen the incidents someone ended while one of their alerts still fires, as Alertmanager says."""
    if not firing:
        return
    ended = session.execute(
        select(Incident.id).where(Incident.id.in_(sorted(firing)), Incident.status.not_in(OPEN))
    ).scalars()
    for incident_id in ended:
        alert = firing[incident_id]
        key = open_key(alert, reachability=router.assessor.is_reachability(alert.alertname))
        why = T(
            "{alert} on {ci} still fires after the incident was ended",
            alert=alert.alertname,
            ci=alert.ci or T("no CI"),
        )
        reopen(incident_id, session=session, by="router", why=why, now=now, key=key)

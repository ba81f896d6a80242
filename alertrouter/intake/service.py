"""Store webhook alerts: idempotent on fingerprint and start, grouped under their root CI's incident.

One delivery costs a handful of statements whatever its size: one lookup of the alerts already stored and of
the open incidents their CIs (and the CIs upstream) could join; the new alerts are routed in memory, then
their new incidents, departments, alerts and timeline are written a statement each (`opening.py`). If
another replica stored one of the alerts or opened one of the incidents meanwhile, `Raced` rolls the
delivery back and it is ingested again, finding what the other committed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.console.releases import screen as screen_releases
from alertrouter.context import Router
from alertrouter.incidents import reopen
from alertrouter.intake.copies import also_ended, copy_of, move_starts, started_earlier
from alertrouter.intake.ending import Key, end_alerts, maybe_resolve
from alertrouter.intake.grouping import Planner, open_key
from alertrouter.intake.opening import Raced
from alertrouter.intake.parser import ParsedAlert, WebhookMessage
from alertrouter.intake.redact import redact_message
from alertrouter.intake.sql import statements_for
from alertrouter.models import OPEN, Delivery, Incident
from alertrouter.msg import Joined, T, msg_data


@dataclass
class IngestResult:
    """What one delivery changed, by outcome: new, repeat, resolved, stale."""

    outcomes: Counter[str] = field(default_factory=Counter)
    incidents: set[int] = field(default_factory=set)


def key_of(alert: ParsedAlert) -> Key:
    """Return the identity of an alert: fingerprint and start."""
    return alert.fingerprint, alert.starts_at


class StoredAlert(NamedTuple):
    """An alert as the store holds it."""

    id: int
    fingerprint: str
    starts_at: dt.datetime
    status: str
    incident_id: int | None
    ends_at: dt.datetime | None
    incident_status: str | None


class RotaEntry(NamedTuple):
    """An on-call change in force, as the lookup reads it (`alertrouter.policy.rota.Entry`)."""

    kind: str
    team: str | None
    person: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime


class OpenIncident(NamedTuple):
    """An open incident an alert could join."""

    id: int
    open_key: str
    priority: str
    parent_id: int | None


def ingest(message: WebhookMessage, *, session: Session, router: Router, now: dt.datetime) -> IngestResult:
    """Store every alert of a delivery in the session's transaction; the caller commits.

    Raises `Raced` when another replica stored one of its alerts or opened one of its incidents while this
    transaction ran: roll back and ingest the delivery again.
    """
    message = redact_message(message, router.guard)
    # A version change a release record explains is linked to it and opens no incident.
    message = screen_releases(message, session=session, inventory=router.inventory, now=now)
    result = IngestResult()
    unique = list({key_of(a): a for a in message.alerts}.values())
    # Roots before the CIs that depend on them, so dependents join the root's incident in one delivery;
    # and one total order for every replica, so two transactions never wait on each other crosswise.
    depth = router.assessor.depth
    unique.sort(key=lambda a: (depth(a.ci), a.fingerprint, a.starts_at))
    planner = Planner(router, session=session, now=now)
    stored, siblings = _lookup(unique, planner)
    earliest: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for alert in unique:  # the same alert with another start: one of an HA pair's copies (copies.py)
        if key_of(alert) not in stored:
            rows = siblings.get(alert.fingerprint, [])
            row = copy_of(alert, rows)
            if row is not None:
                stored[key_of(alert)] = row
                first = earliest.get(row.id, (row.starts_at, row.starts_at))[0]
                if alert.starts_at < first and started_earlier(alert, row, rows):
                    earliest[row.id] = (alert.starts_at, row.starts_at)
    if earliest:
        move_starts(earliest, session=session, tz=router.inventory.tz, now=now)
    fresh = [a for a in unique if key_of(a) not in stored]
    if fresh:
        _insert_new(fresh, planner, result=result)
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


def _lookup(
    alerts: list[ParsedAlert], planner: Planner
) -> tuple[dict[Key, StoredAlert], dict[str, list[StoredAlert]]]:
    """In one statement: find the stored rows of these alerts, and every stored row sharing a fingerprint
    with them; and tell the planner which incidents they could join are open, and the on-call changes."""
    wanted = {key_of(a) for a in alerts}
    keys = sorted({k for a in alerts for k in planner.keys(a)})
    found: dict[Key, StoredAlert] = {}
    siblings: dict[str, list[StoredAlert]] = {}
    incidents: list[OpenIncident] = []
    changes: list[tuple[int, RotaEntry]] = []
    params = {"fps": sorted({a.fingerprint for a in alerts}), "keys": keys, "now": planner.now}
    for kind, *row in planner.conn.execute(planner.sql.lookup, params):
        if kind == "incident":
            id_, key, _, priority, parent, *_ = row
            incidents.append(OpenIncident(id_, key, priority, parent))
            continue
        if kind == "change":
            id_, team, starts_at, change_kind, _, ends_at, person = row
            changes.append((id_, RotaEntry(change_kind, team, person, starts_at, ends_at)))
            continue
        alert = StoredAlert(*row)
        if (alert.fingerprint, alert.starts_at) in wanted:
            found[(alert.fingerprint, alert.starts_at)] = alert
        else:
            siblings.setdefault(alert.fingerprint, []).append(alert)
    planner.learn(keys, incidents)
    planner.changes = [entry for _, entry in sorted(changes, key=lambda c: -c[0])]  # newest first
    return found, siblings


def _insert_new(
    fresh: list[ParsedAlert],
    planner: Planner,
    *,
    result: IngestResult,
) -> None:
    """Route alerts not stored yet, then write their incidents, the alerts and the timeline."""
    plans = [planner.route(a) for a in fresh]
    planner.write()
    now, real = planner.now, planner.openings.real
    rows = [
        {
            "fingerprint": a.fingerprint,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "status": a.status,
            "alertname": a.alertname,
            "severity": planner.router.assessor.severity_of(a.severity),
            "ci": a.ci,
            "labels": a.labels,
            "annotations": a.annotations,
            "generator_url": a.generator_url,
            "redactions": list(a.redactions),
            "incident_id": real(p.incident_id),
            "first_received_at": now,
            "last_received_at": now,
            "receive_count": 1,
        }
        for a, p in zip(fresh, plans, strict=True)
    ]
    returned = planner.conn.execute(planner.sql.insert_alerts, rows).all()
    if len(returned) != len(rows):
        raise Raced("another replica stored one of these alerts first")
    inserted = {(r.fingerprint, r.starts_at): r.id for r in returned}
    events = [planner.openings.event(e) for e in planner.events]
    resolved: set[int] = set()
    for alert, plan in zip(fresh, plans, strict=True):
        alert_id, incident_id = inserted[key_of(alert)], real(plan.incident_id)
        result.outcomes["new"] += 1
        result.incidents.add(incident_id)
        for event in plan.events:
            events.append(planner.openings.event({**event, "data": {**event["data"], "alert_id": alert_id}}))
        if alert.redactions:
            events.append(_redacted_event(alert, alert_id, incident_id, now))
        if alert.status == "resolved":
            resolved.add(incident_id)
    if events:
        planner.conn.execute(planner.sql.insert_events, events)
    # Joining an incident never updates its row, so concurrent deliveries into one incident never queue.
    planner.apply_raises()
    for incident_id in sorted(resolved):
        maybe_resolve(incident_id, session=planner.session, now=now)


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
    conn = session.connection()
    conn.execute(statements_for(conn).repeated, {"ids": ids, "now": now})
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
    for row in end_alerts(to_resolve, session=session, now=now) if to_resolve else ():
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
        key = open_key(alert, reachability=router.assessor.is_reachability(alert.alertname, alert.labels))
        why = T(
            "{alert} on {ci} still fires after the incident was ended",
            alert=alert.alertname,
            ci=alert.ci or T("no CI"),
        )
        reopen(incident_id, session=session, by="router", why=why, now=now, key=key)

"""What people do to incidents beyond acknowledge and resolve: snooze, reopen, reassign, merge, split.

Each follows the incident model of docs/router.md ("One incident model for reopen, snooze, merge and
split"), so it composes with grouping and the re-fire rule: paging is escalation from step 1 whenever an
incident enters ``triggered`` without an open parent; a merge is a ``parent_id`` link (the child pages
nobody while its cause is open); a split clears it, or moves one wrongly joined alert to a new incident on
the same CI. Every action writes one timeline entry; the views write the audit log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.errors import ApiError
from alertrouter.incidents import get_incident_or_raise, refuse_unless_open, reopen
from alertrouter.intake.opening import incident_fields
from alertrouter.models import OPEN, Alert, Incident, IncidentDepartment, Status
from alertrouter.msg import N_, T
from alertrouter.notify.queue import page
from alertrouter.owner import owner_of
from alertrouter.policy.oncall import on_call
from alertrouter.policy.rota import plan
from alertrouter.timeline import record

SNOOZE_MINUTES = (15, 30, 60, 120, 240)
MAX_SNOOZE = 24 * 60


def snooze(incident_id: int, *, session: Session, by: str, minutes: int, now: dt.datetime) -> Incident:
    """Quiet an open incident for some minutes; unless resolved by then, it pages again from step 1."""
    if not 1 <= minutes <= MAX_SNOOZE:
        raise ApiError(400, T("minutes: from 1 to {most}", most=MAX_SNOOZE))
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    refuse_unless_open(inc, N_("incident {id} is {status}; only open incidents are snoozed"))
    until = now + dt.timedelta(minutes=minutes)
    inc.status, inc.acknowledged_at, inc.acknowledged_by = Status.triggered, None, None
    inc.escalation_step, inc.next_escalation_at = 0, until
    record(
        session,
        inc.id,
        "snoozed",
        T(
            "snoozed by {by} for {minutes} min: paged again from step 1 at {time} UTC unless resolved",
            by=by,
            minutes=minutes,
            time=f"{until:%H:%M}",
        ),
        at=now,
        actor=by,
        data={"minutes": minutes, "until": until.isoformat()},
    )
    return inc


def incident_key(router: Router, inc: Incident, *, session: Session) -> str | None:
    """Return the open key the incident's first alert would hold (as intake computes it), if any."""
    alert = session.execute(
        select(Alert).where(Alert.incident_id == inc.id).order_by(Alert.starts_at, Alert.id).limit(1)
    ).scalar()
    if alert is None or inc.open_key is not None:
        return inc.open_key
    if not alert.ci:
        return f"fp:{alert.fingerprint}"
    return (
        f"ci:{alert.ci}"
        if router.assessor.is_reachability(alert.alertname, alert.labels)
        else f"ci:{alert.ci}:{alert.alertname}"
    )


def reopen_by(
    router: Router, incident_id: int, *, session: Session, by: str, why: str, now: dt.datetime
) -> Incident:
    """Reopen an ended incident by hand: the router's own re-fire `reopen`, with the person's reason."""
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    key = incident_key(router, inc, session=session)
    return reopen(incident_id, session=session, by=by, why=why or T("no reason given"), now=now, key=key)


def reassign(
    router: Router,
    incident_id: int,
    *,
    session: Session,
    by: str,
    team: str | None,
    person: str | None,
    now: dt.datetime,
) -> Incident:
    """Hand an open incident to another team (its on-call person, unless one is named) and page them."""
    inv = router.inventory
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    refuse_unless_open(inc, N_("incident {id} is {status}; only open incidents are reassigned"))
    team = team or inc.team
    if team not in inv.teams:
        raise ApiError(400, T("team: unknown {team}", team=repr(team)))
    members = {m.id for m in inv.teams[team].members}
    if person is None:
        person = on_call(inv, plan(router, session=session), team, now).person
    if person is None or person not in members:
        raise ApiError(
            400,
            T("to: {person} is not on team {team}", person=repr(person), team=team)
            if person
            else T("nobody on call for {team}", team=team),
        )
    before = (inc.team, inc.assignee)
    inc.team, inc.assignee = team, person
    record(
        session,
        inc.id,
        "reassigned",
        T(
            "reassigned by {by} to {person} ({team}); was {before} ({before_team})",
            by=by,
            person=person,
            team=team,
            before=before[1] or T("nobody"),
            before_team=before[0] or T("no team"),
        ),
        at=now,
        actor=by,
        data={"from": list(before), "to": [team, person]},
    )
    if person != by:
        page(router, inc, [person], T("reassigned by {by}", by=by), session=session, now=now)
    return inc


def merge(incident_id: int, *, session: Session, by: str, into: int, now: dt.datetime) -> Incident:
    """File an open incident under another open one as caused by it: no pages while that one is open."""
    if into == incident_id:
        raise ApiError(400, T("into: an incident cannot be merged into itself"))
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    # A page loaded before someone else ended it: filing an ended incident under a cause would put an entry
    # after its resolve on both timelines, and quieten its re-fire under that cause.
    refuse_unless_open(inc, N_("incident {id} is {status}; only open incidents are merged"))
    target = get_incident_or_raise(into, session=session, lock=True)
    root = session.get(Incident, target.parent_id) if target.parent_id else target
    assert root is not None
    if root.id == inc.id:
        raise ApiError(409, T("incident {into} is already caused by {id}", into=into, id=incident_id))
    if root.status not in OPEN:
        raise ApiError(
            409,
            T(
                "incident {id} is {status}; merge only into an open incident",
                id=root.id,
                status=T(root.status),
            ),
        )
    inc.parent_id, inc.next_escalation_at = root.id, None
    # Its own children follow it: one level, as grouping keeps it.
    session.execute(update(Incident).where(Incident.parent_id == inc.id).values(parent_id=root.id))
    under = T("merged by {by} under #{root}: caused by it", by=by, root=root.id)
    record(session, inc.id, "merged", under, at=now, actor=by, data={"parent_id": root.id})
    here = T("#{child} merged here by {by}", child=inc.id, by=by)
    record(session, root.id, "merged", here, at=now, actor=by, data={"child_id": inc.id})
    return inc


def split(
    router: Router, incident_id: int, *, session: Session, by: str, alert_id: int | None, now: dt.datetime
) -> Incident:
    """Say "not caused by": free an incident from its cause, or move one alert out to an incident of its own.

    Returns the incident that now pages on its own (the same one, or the new one for the alert).
    """
    inc = get_incident_or_raise(incident_id, session=session, lock=True)
    if alert_id is None:
        if inc.parent_id is None:
            raise ApiError(
                409, T("incident {id} is not grouped under another; name an alert to split", id=incident_id)
            )
        parent = inc.parent_id
        inc.parent_id = None
        if inc.status == Status.triggered:
            inc.escalation_step, inc.next_escalation_at = 0, now
        freed = T("split by {by}: not caused by #{parent}", by=by, parent=parent)
        record(session, inc.id, "split", freed, at=now, actor=by, data={"parent_id": parent})
        off = T("#{child} split off by {by}: not caused by this", child=inc.id, by=by)
        record(session, parent, "split", off, at=now, actor=by, data={"child_id": inc.id})
        return inc
    return _split_alert(router, inc, alert_id, session=session, by=by, now=now)


def _split_alert(
    router: Router, inc: Incident, alert_id: int, *, session: Session, by: str, now: dt.datetime
) -> Incident:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.incident_id != inc.id:
        raise ApiError(400, T("alert_id: alert {alert} is not in incident {id}", alert=alert_id, id=inc.id))
    others = session.execute(
        select(Alert.id).where(Alert.incident_id == inc.id, Alert.id != alert_id).limit(1)
    ).scalar()
    if others is None:
        raise ApiError(
            409, T("alert {alert} is the incident's only alert; nothing to split from", alert=alert_id)
        )
    decision = router.assessor.assess(
        ci=alert.ci, severity=alert.severity, at=alert.starts_at, alertname=alert.alertname
    )
    owner = owner_of(router.inventory, plan(router, session=session), alert.ci, now)
    firing = alert.status == "firing"
    fields = incident_fields(
        router, alertname=alert.alertname, ci=alert.ci, severity=alert.severity,
        summary=str(alert.annotations.get("summary", "")),
        summary_zh=str(alert.annotations.get("summary_zh", "")), firing=firing, decision=decision,
        owner=owner, now=now,
    )  # fmt: skip
    new = Incident(**fields, open_key=None, next_escalation_at=now if firing else None)
    session.add(new)
    session.flush()
    for i, dept in enumerate(decision.departments):
        session.add(IncidentDepartment(incident_id=new.id, department=dept, position=i))
    alert.incident_id = new.id
    what = T("{alert} on {ci}", alert=alert.alertname, ci=alert.ci or T("no CI"))
    why = T(
        "split by {by} from #{source}: {what} is not part of it; {why}; {owner}",
        by=by, source=inc.id, what=what, why=decision.explanation, owner=owner.explanation,
    )  # fmt: skip
    record(session, new.id, "opened", why, at=now, actor=by, data={"from": inc.id})
    off = T("{what} split off by {by} to #{new}: not part of this", what=what, by=by, new=new.id)
    record(session, inc.id, "split", off, at=now, actor=by, data={"alert_id": alert_id, "to": new.id})
    return new

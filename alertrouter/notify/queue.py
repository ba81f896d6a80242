"""Queue messages about an incident to people, on every channel that carries its priority."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import Incident, Notification
from alertrouter.notify.channels import person_address
from alertrouter.notify.templates import BODY, SUBJECT, render
from alertrouter.timeline import record


def _fields(router: Router, inc: Incident, person: str, step: str) -> dict[str, str]:
    base = router.settings.file.console_url.rstrip("/")
    return {
        "id": str(inc.id),
        "priority": inc.priority,
        "title": inc.title,
        "status": inc.status,
        "explanation": inc.explanation,
        "owner": inc.owner_explanation,
        "person": person,
        "step": step,
        "ci": inc.ci or "",
        "service": inc.service or "",
        "team": inc.team or "",
        "departments": ", ".join(d.department for d in inc.departments),
        # People open the console's incident page; machines use the API.
        "url": f"{base}/console/incidents/{inc.id}",
    }


def page(
    router: Router, inc: Incident, people: list[str], step: str, *, session: Session, now: dt.datetime
) -> int:
    """Queue messages to people on every channel carrying the incident's priority; return how many."""
    team = router.inventory.teams.get(inc.team or "")
    members = {m.id: m for t in router.inventory.teams.values() for m in t.members}
    queued = 0
    for channel in router.settings.file.channels:
        if inc.priority not in channel.priorities:
            continue
        fields = _fields(router, inc, ", ".join(people), step)
        subject = render(channel.subject or SUBJECT, fields)
        body = render(channel.body or BODY, fields)
        recipients: list[str] = []
        for person in people:
            member = members.get(person)
            address = person_address(channel, member.contacts.model_dump() if member else {})
            if address is None:
                record(
                    session,
                    inc.id,
                    "notification_skipped",
                    f"{person} has no address for {channel.name}",
                    at=now,
                )
            elif address:
                recipients.append(address)
        if channel.kind in ("wecom", "dingtalk", "webhook"):
            recipients = [team.id if team else "all"]
        for recipient in recipients:
            session.add(
                Notification(
                    incident_id=inc.id,
                    channel=channel.name,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    last_error="",
                )
            )
            queued += 1
    return queued


def tell_assignee(router: Router, incident_id: int, why: str, *, session: Session, now: dt.datetime) -> int:
    """Page an open incident's assignee, e.g. because its priority rose onto channels it was not on."""
    inc = session.get(Incident, incident_id)
    if inc is None or inc.status not in ("triggered", "acknowledged") or not inc.assignee:
        return 0
    return page(router, inc, [inc.assignee], why, session=session, now=now)

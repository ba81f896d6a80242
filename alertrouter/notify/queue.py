"""Queue messages about an incident to people, on every channel that carries its priority."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import Incident, Notification
from alertrouter.notify.channels import person_address
from alertrouter.notify.templates import BODY, SUBJECT, render
from alertrouter.settings import ChannelConfig
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


def recipients(
    router: Router,
    channel: ChannelConfig,
    people: list[str],
    team: str | None,
    *,
    session: Session,
    incident_id: int,
    now: dt.datetime,
) -> list[str]:
    """Return where a channel's message to these people goes; note on the timeline who has no address."""
    members = {m.id: m for t in router.inventory.teams.values() for m in t.members}
    found: list[str] = []
    for person in people:
        member = members.get(person)
        address = person_address(channel, member.contacts.model_dump() if member else {})
        if address is None:
            record(
                session,
                incident_id,
                "notification_skipped",
                f"{person} has no address for {channel.name}",
                at=now,
            )
        elif address:
            found.append(address)
    if channel.kind in ("wecom", "dingtalk", "webhook"):
        found = [team or "all"]
    return found


def enqueue(
    session: Session,
    incident_id: int,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    *,
    now: dt.datetime,
    incident_ids: list[int] | None = None,
) -> None:
    """Put one message in the outbox, due now."""
    session.add(
        Notification(
            incident_id=incident_id,
            incident_ids=incident_ids,
            channel=channel,
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


def page(
    router: Router, inc: Incident, people: list[str], step: str, *, session: Session, now: dt.datetime
) -> int:
    """Queue messages to people on every channel carrying the incident's priority; return how many."""
    team = router.inventory.teams.get(inc.team or "")
    queued = 0
    for channel in router.settings.file.channels:
        if inc.priority not in channel.priorities:
            continue
        fields = _fields(router, inc, ", ".join(people), step)
        subject = render(channel.subject or SUBJECT, fields)
        body = render(channel.body or BODY, fields)
        where = recipients(
            router, channel, people, team.id if team else None, session=session, incident_id=inc.id, now=now
        )
        for recipient in where:
            enqueue(session, inc.id, channel.name, recipient, subject, body, now=now)
            queued += 1
    return queued


def tell_assignee(router: Router, incident_id: int, why: str, *, session: Session, now: dt.datetime) -> int:
    """Page an open incident's assignee, e.g. because its priority rose onto channels it was not on."""
    inc = session.get(Incident, incident_id)
    if inc is None or inc.status not in ("triggered", "acknowledged") or not inc.assignee:
        return 0
    if inc.status == "triggered" and inc.escalation_step == 0:
        return 0  # nobody paged yet (held, or quiet under its cause): the first page carries the new priority
    parent = session.get(Incident, inc.parent_id) if inc.parent_id else None
    if parent is not None and parent.status in ("triggered", "acknowledged"):
        return 0  # quiet under its open cause, as grouping promises
    return page(router, inc, [inc.assignee], why, session=session, now=now)

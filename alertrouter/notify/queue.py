"""Queue messages about an incident to people, on every channel that carries its priority."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.links import Action, make_links
from alertrouter.models import Incident, Notification
from alertrouter.msg import T, stored
from alertrouter.notify import pages
from alertrouter.notify.channels import person_address
from alertrouter.notify.lang import say
from alertrouter.notify.templates import render
from alertrouter.settings import ChannelConfig
from alertrouter.timeline import record


@dataclass(frozen=True)
class Listing:
    """A message about several incidents: what it says, their ids, and their priorities."""

    facts: pages.Facts
    incident_ids: list[int]
    priorities: set[str]


GROUP_KINDS = ("wecom", "dingtalk", "webhook")
ACTIONS = {
    "email": (Action.acknowledge, Action.resolve, Action.open),
    "wecom": (Action.acknowledge, Action.resolve, Action.open),
    "dingtalk": (Action.acknowledge, Action.resolve, Action.open),
    "sms": (Action.acknowledge,),
    "webhook": (),
}


def _fields(f: pages.Facts, person: str, step: str, links: dict[Action, str]) -> dict[str, str]:
    inc = f.inc
    return {
        "id": str(inc.id),
        "priority": inc.priority,
        "title": f.title,
        "status": inc.status,
        # What a person reads, in the page's language; ids and states stay as machines read them.
        "explanation": f.explanation,
        "owner": f.owner,
        "person": person,
        "step": step,
        "ci": inc.ci or "",
        "service": inc.service or "",
        "team": inc.team or "",
        "departments": ", ".join(d.department for d in inc.departments),
        # People open the console's incident page; machines use the API.
        "url": f.console,
        "ack_url": links.get(Action.acknowledge, ""),
        "resolve_url": links.get(Action.resolve, ""),
        "open_url": links.get(Action.open, ""),
        "history": "\n".join(f.history),
    }


def compose(
    channel: ChannelConfig, f: pages.Facts, paged: str, step: str, links: dict[Action, str]
) -> tuple[str, str]:
    """Return the subject and body of one message: the channel's own templates, else the built-in page."""
    if channel.kind == "email":
        subject, body = pages.subject(f), pages.email_text(f, links, paged, step)
    elif channel.kind in ("wecom", "dingtalk"):
        subject, body = pages.subject(f), pages.chat_markdown(f, links, paged, step)
    elif channel.kind == "sms":
        # The gateway texts `message` (the body); the subject goes along as the JSON title, for its logs.
        subject, body = pages.subject(f), pages.sms_text(f, links)
    else:
        subject, body = pages.subject(f), pages.email_text(f, links, paged, step)
    fields = _fields(f, paged, step, links)
    return (
        render(channel.subject, fields) if channel.subject else subject,
        render(channel.body, fields) if channel.body else body,
    )


def page(
    router: Router,
    inc: Incident,
    people: list[str],
    step: str,
    *,
    session: Session,
    now: dt.datetime,
    listing: Listing | None = None,
) -> int:
    """Queue messages to people on every channel carrying the incident's priority; return how many.

    Each message carries its own acknowledge, resolve and open links, acting as the person it goes to; a
    group chat's act as the first person paged. With `listing`, the message is about several incidents
    (`alertrouter.notify.together`): it says their facts, and goes on every channel carrying any of them.
    """
    priorities = listing.priorities if listing else {inc.priority}
    channels = [c for c in router.settings.file.channels if priorities & set(c.priorities)]
    if not channels:
        return 0  # before the facts: gathering them reads the CI's history from the store
    team = router.inventory.teams.get(inc.team or "")
    members = {m.id: m for t in router.inventory.teams.values() for m in t.members}
    paged = ", ".join(people)
    facts = listing.facts if listing else pages.facts(router, inc, session=session)
    step = say(step, stored(step), facts.lang, router.inventory)  # a message: said in the page's language
    queued = 0
    for channel in channels:
        targets: list[tuple[str, str]] = []
        for person in people:
            member = members.get(person)
            address = person_address(channel, member.contacts.model_dump() if member else {})
            if address is None:
                record(
                    session,
                    inc.id,
                    "notification_skipped",
                    T("{person} has no address for {channel}", person=person, channel=channel.name),
                    at=now,
                )
            elif address:
                targets.append((address, person))
        if channel.kind in GROUP_KINDS:
            targets = [(team.id if team else "all", people[0] if people else "")]
        for recipient, person in targets:
            actions = ACTIONS[channel.kind] if person else ()
            links = make_links(router, inc.id, person, channel.name, actions, session=session, now=now)
            subject, body = compose(channel, facts, paged, step, links)
            session.add(
                Notification(
                    incident_id=inc.id,
                    incident_ids=listing.incident_ids if listing else None,
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

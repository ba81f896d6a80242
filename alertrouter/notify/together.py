"""One message about several incidents: the children a cause released, still failing, for one team.

When a core switch comes back, the CIs behind it that still fail after the release grace are paged to their
owners, but one message per person and channel lists them all, instead of one message each: three hundred
SMS at once is a storm of its own, and the one who reads them needs the list, not the count of buzzes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import Incident
from alertrouter.notify.queue import enqueue, recipients
from alertrouter.notify.templates import BODY, SUBJECT, render
from alertrouter.settings import PRIORITIES

LISTED = 10
"""How many incidents a message names in its title; the body lists up to `LINES`, then says how many more."""
LINES = 30


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def fields(router: Router, incs: list[Incident], cause: Incident, person: str, step: str) -> dict[str, str]:
    """Return the template fields of a message listing `incs`, most urgent first, released by `cause`."""
    incs = sorted(incs, key=lambda i: (PRIORITIES.index(i.priority), i.id))
    lead = incs[0]
    base = router.settings.file.console_url.rstrip("/")
    names = [f"{i.alertname} on {i.ci or 'no CI'}" for i in incs]
    more = f"; and {len(names) - LISTED} more" if len(names) > LISTED else ""
    title = (
        f"{len(incs)} CIs still failing after {cause.ci or 'its cause'} (#{cause.id}) recovered: "
        + "; ".join(names[:LISTED])
        + more
    )
    lines = [f"#{i.id} {i.priority} {i.title} - {base}/console/incidents/{i.id}" for i in incs[:LINES]]
    if len(incs) > LINES:
        lines.append(f"... and {len(incs) - LINES} more on the board")
    return {
        "id": str(lead.id),
        "priority": lead.priority,
        "title": title,
        "status": lead.status,
        "explanation": f"{lead.explanation}\nStill failing:\n" + "\n".join(lines),
        "owner": lead.owner_explanation,
        "person": person,
        "step": step,
        "ci": ", ".join(_unique([i.ci or "" for i in incs])),
        "service": ", ".join(_unique([i.service or "" for i in incs])),
        "team": lead.team or "",
        "departments": ", ".join(_unique([d.department for i in incs for d in i.departments])),
        "url": f"{base}/console/?team={lead.team}" if lead.team else f"{base}/console/",
    }


def page_together(
    router: Router,
    incs: list[Incident],
    cause: Incident,
    people: list[str],
    step: str,
    *,
    session: Session,
    now: dt.datetime,
) -> int:
    """Queue one message per person and channel listing incidents of one team released by `cause`.

    A channel takes the message when it carries the priority of any of them; the message is kept under
    the most urgent one and is cancelled only when every incident it lists is over.
    """
    priorities = {i.priority for i in incs}
    info = fields(router, incs, cause, ", ".join(people), step)
    lead = int(info["id"])
    ids = sorted(i.id for i in incs)
    team = incs[0].team
    queued = 0
    for channel in router.settings.file.channels:
        if not priorities & set(channel.priorities):
            continue
        subject = render(channel.subject or SUBJECT, info)
        body = render(channel.body or BODY, info)
        where = recipients(router, channel, people, team, session=session, incident_id=lead, now=now)
        for recipient in where:
            enqueue(session, lead, channel.name, recipient, subject, body, now=now, incident_ids=ids)
            queued += 1
    return queued

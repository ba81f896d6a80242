"""iCal feeds of the on-call plan, per team and per person, at tokenised addresses a phone calendar polls.

The address carries a signed token naming the team or person, so a calendar app needs no login; the same
plan as the console's calendar (`rota.plan`, `rota.segments`) from two weeks back to two months ahead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from flask import Blueprint, Response, current_app
from itsdangerous import BadSignature

from alertrouter.keys import serializer
from alertrouter.notify.lang import translator
from alertrouter.policy import rota_edit
from alertrouter.policy.rota import Segment, plan, segments
from alertrouter.state import current_state

bp = Blueprint("ical", __name__, url_prefix="/ical")
PURPOSE = "ical"
BACK, AHEAD = dt.timedelta(days=14), dt.timedelta(days=62)


def token(subject: tuple[str, str]) -> str:
    """Return the token of a feed: ("team", id) or ("person", id)."""
    return str(serializer(current_app, PURPOSE).dumps(list(subject)))


def _subject(value: str) -> tuple[str, str] | None:
    try:
        kind, ident = serializer(current_app, PURPOSE).loads(value)
    except (BadSignature, ValueError, TypeError):
        return None
    return (kind, ident) if kind in ("team", "person") and isinstance(ident, str) else None


def _event(seg: Segment, summary: str, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{seg.team}-{seg.start:%Y%m%dT%H%M%SZ}@hospmon")
    event.add("dtstamp", stamp)
    event.add("dtstart", seg.start)
    event.add("dtend", seg.end)
    event.add("summary", summary)
    event.add("categories", [seg.kind])
    event.add("x-hospmon-person", seg.person or "")
    if seg.person is None:
        event.add("status", "TENTATIVE")
    return event


def build(kind: str, ident: str, now: dt.datetime) -> bytes:
    """Return the feed of a team (all turns and gaps) or of a person (their turns on every team)."""
    state = current_state()
    router = state.router
    inv = router.inventory
    _ = translator(router.settings.file.language)
    with state.sessions() as session:
        policy = plan(router, session=session)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//hospmon//on-call//")
    cal.add("version", "2.0")
    teams = [ident] if kind == "team" else rota_edit.teams_of(router, ident)
    people = {m.id: m for t in inv.teams.values() for m in t.members}
    title = _("On call") + ": "
    cal.add(
        "x-wr-calname",
        title + (_name(inv.teams[ident].name) if kind == "team" else _name(people[ident].name)),
    )
    for team_id in teams:
        for seg in segments(inv, policy, team_id, now - BACK, now + AHEAD):
            if kind == "person" and seg.person != ident:
                continue
            who = _name(people[seg.person].name) if seg.person in people else _("Nobody")
            summary = title + (who if kind == "team" else _name(inv.teams[team_id].name))
            cal.add_component(_event(seg, summary, now))
    return bytes(cal.to_ical())


def _name(name: Any) -> str:
    lang = current_state().router.settings.file.language
    return str((name.zh or name.en) if lang == "zh" else (name.en or name.zh))


@bp.get("/<token>.ics")
def feed(token: str) -> Response:
    """Serve a feed, or 404 for a token this router did not sign."""
    found = _subject(token)
    router = current_state().router
    known = (
        router.inventory.teams
        if found and found[0] == "team"
        else {m.id for t in router.inventory.teams.values() for m in t.members}
    )
    if found is None or found[1] not in known:
        return Response("no such calendar\n", status=404, mimetype="text/plain")
    body = build(found[0], found[1], current_state().now())
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "no-store"})

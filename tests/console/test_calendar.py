"""The network team's on-call plan, changed in the console by its lead: Wang Lei's child is ill on Wednesday
night, so Zhao Min covers it; Li Qiang swaps his week for Zhao Min's. The changes hold at once on every
replica (the next page goes to Zhao Min), are audited, and the team's iCal feed says the same as the page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.models import AuditEntry
from alertrouter.context import load_router
from tests.console.conftest import seed
from tests.router.conftest import API_TOKEN, auth
from tests.router.payloads import alert

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # wang.lei's week: 30 Nov 08:30 to 7 Dec 08:30
WEDNESDAY_NIGHT = dt.datetime(2026, 12, 2, 21, 0, tzinfo=SHANGHAI)


def _week(page: str) -> set[tuple[str, dt.datetime, dt.datetime]]:
    """Read the week view's stretches: who, from, to."""
    found = re.findall(r'data-person="([^"]*)" data-start="([^"]+)" data-end="([^"]+)"', page)
    return {(p, dt.datetime.fromisoformat(s), dt.datetime.fromisoformat(e)) for p, s, e in found}


def _feed(client: FlaskClient, page: str, which: str) -> icalendar.Calendar:
    url = re.search(rf'id="feed-{which}" href="([^"]+)"', page)
    assert url is not None
    resp = client.get(urlsplit(unescape(url.group(1))).path)
    assert resp.status_code == 200 and resp.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(resp.data)


def _form(start: dt.datetime, end: dt.datetime, **extra: str) -> dict[str, str]:
    return {"start": start.strftime("%Y-%m-%dT%H:%M"), "end": end.strftime("%Y-%m-%dT%H:%M"), **extra}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_lead_covers_a_night_swaps_weeks_and_the_feed_agrees(
    client: FlaskClient,
    app: Flask,
    as_user: Callable[[str], str],
    database_url: str,
    write_config: Callable[..., Path],
) -> None:
    state = app.extensions["hospmon_router"]
    state.now = lambda: TUESDAY.astimezone(dt.UTC)
    token = as_user("zhao.min")  # on the team, not its lead
    night = _form(dt.datetime(2026, 12, 2, 20, 0), dt.datetime(2026, 12, 3, 8, 30), person="zhao.min")
    refused = client.post("/console/oncall/network/override", data={"csrf": token, **night})
    assert refused.status_code == 403
    token = as_user("wang.lei")  # the lead
    made = client.post(
        "/console/oncall/network/override", data={"csrf": token, "reason": "child ill", **night}
    )
    assert made.status_code == 303
    # Effective at once, on another replica of the router too: no restart, no YAML.
    replica = create_app(load_router(write_config(database_url)))
    try:
        replica.extensions["hospmon_router"].now = lambda: WEDNESDAY_NIGHT.astimezone(dt.UTC)
        duty = replica.test_client().get("/api/v1/oncall", headers=auth(API_TOKEN)).json
        assert duty["teams"]["network"]["person"] == "zhao.min"
        state.now = lambda: WEDNESDAY_NIGHT.astimezone(dt.UTC)
        seed(replica.test_client(), alert("core-sw-1", WEDNESDAY_NIGHT.astimezone(dt.UTC)))
        inc = client.get("/api/v1/incidents?ci=core-sw-1", headers=auth(API_TOKEN)).json["incidents"][0]
        assert inc["assignee"] == "zhao.min" and "override" in inc["owner_explanation"]
    finally:
        replica.extensions["hospmon_router"].engine.dispose()
    # Li Qiang's week (7-14 Dec) and Zhao Min's (14-21 Dec) change places.
    token = as_user("wang.lei")  # a console session lasts a shift; this is the next evening
    swap = {"first": "2026-12-08T12:00", "second": "2026-12-15T12:00", "reason": "wedding"}
    assert client.post("/console/oncall/network/swap", data={"csrf": token, **swap}).status_code == 303
    page = client.get("/console/oncall?team=network&view=week&date=2026-12-08").text
    week = _week(page)
    monday = dt.datetime(2026, 12, 7, tzinfo=SHANGHAI)
    handover = monday + dt.timedelta(hours=8, minutes=30)
    assert week == {
        ("wang.lei", monday, handover),
        ("zhao.min", handover, monday + dt.timedelta(days=7)),  # Li Qiang's week, now Zhao Min's
    }
    # The team's feed, parsed by the icalendar library, says what the page says for that week.
    cal = _feed(client, page, "team")
    events = [
        ev
        for ev in cal.walk("VEVENT")
        if ev.decoded("dtend") > monday and ev.decoded("dtstart") < monday + dt.timedelta(days=7)
    ]
    clipped = {
        (
            str(ev.get("x-hospmon-person")),
            max(ev.decoded("dtstart"), monday),
            min(ev.decoded("dtend"), monday + dt.timedelta(days=7)),
        )
        for ev in events
    }
    assert clipped == week
    assert [str(ev.get("summary")) for ev in events] == ["On call: Wang Lei", "On call: Zhao Min"]
    mine = _feed(client, page, "me")
    assert {str(ev.get("x-hospmon-person")) for ev in mine.walk("VEVENT")} == {"wang.lei"}
    assert all(str(ev.get("summary")) == "On call: Network Team" for ev in mine.walk("VEVENT"))
    # Thursday afternoon Wang Lei is at the vendor's training, nobody covers: the page and the feed show the
    # gap, which the lead can see coming.
    away = _form(dt.datetime(2026, 12, 3, 13, 0), dt.datetime(2026, 12, 3, 17, 0), person="wang.lei")
    assert client.post("/console/oncall/network/absence", data={"csrf": token, **away}).status_code == 303
    page = client.get("/console/oncall?team=network&view=week&date=2026-12-01").text
    gap = (
        "",
        dt.datetime(2026, 12, 3, 13, 0, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 3, 17, 0, tzinfo=SHANGHAI),
    )
    assert gap in _week(page)
    gaps = {
        (str(ev.get("x-hospmon-person")), ev.decoded("dtstart"), ev.decoded("dtend"))
        for ev in _feed(client, page, "team").walk("VEVENT")
    }
    assert gap in gaps
    with state.sessions() as session:
        actions = set(
            session.execute(select(AuditEntry.action).where(AuditEntry.actor == "wang.lei")).scalars()
        )
    assert {"oncall_override", "oncall_swap", "oncall_absence"} <= actions
    assert client.get("/ical/not-a-token.ics").status_code == 404

"""The weekly report is a calendar week, Monday to Sunday in Shanghai: what the head of IT reads on Monday
morning for last week, and what "this week" shows on a Wednesday."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.console.conftest import seed
from tests.router.payloads import alert

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WEDNESDAY = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
OPENED = {
    "core-sw-1": dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI),  # Thursday of last week
    "core-sw-2": dt.datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI),  # Sunday night, last week still
    "his-db": dt.datetime(2026, 11, 30, 0, 30, tzinfo=SHANGHAI),  # Monday just after midnight
    "lis-db": dt.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI),  # this morning
}


def _total(page: str) -> int:
    found = re.search(r'id="week-total">(\d+)<', page)
    assert found
    return int(found.group(1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_this_week_and_last_week_are_monday_to_sunday(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    state = app.extensions["hospmon_router"]
    for ci, at in OPENED.items():
        state.now = lambda at=at: at.astimezone(dt.UTC)
        seed(client, alert(ci, at.astimezone(dt.UTC)))
        seed(client, alert(ci, at.astimezone(dt.UTC), status="resolved"))  # fixed before the next one
    state.now = lambda: WEDNESDAY.astimezone(dt.UTC)
    as_user("guest")
    this_week = client.get("/console/report", headers={"Accept-Language": "en"}).text
    assert _total(this_week) == 2  # Monday 00:30 and this morning; not Thursday, not Sunday night
    assert "2026-11-30 – 2026-12-06</h1>" in this_week
    last = re.search(r'href="(/console/report\?from=2026-11-23&amp;to=2026-11-29)"', this_week)
    assert last is not None
    last_week = client.get(last.group(1).replace("&amp;", "&")).text
    assert _total(last_week) == 2 and "2026-11-23 – 2026-11-29</h1>" in last_week

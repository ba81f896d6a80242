"""The incident page tells the engineer what they need: the article written from this very incident, and
earlier occurrences that really came before it, not the other incidents of the same storm."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.console.conftest import T0, incident_id, seed
from tests.router.payloads import alert


def _history(page: str) -> list[int]:
    table = page.split('id="history"')[1].split("</table>", maxsplit=1)[0]
    return [int(n) for n in re.findall(r"/console/incidents/(\d+)", table)]


def test_article_from_this_incident_is_listed(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    seed(client, alert("core-sw-1", T0))
    inc = incident_id(client, "core-sw-1")
    resolved = client.post(
        f"/console/incidents/{inc}/resolve",
        data={"csrf": token, "cause": "hardware", "fix": "Reseated card 3", "minutes": "3", "to_kb": "1"},
    )
    assert resolved.status_code == 303
    page = client.get(f"/console/incidents/{inc}", headers={"Accept-Language": "en"}).text
    suggestions = page.split('id="suggestions"')[1].split("</ul>")[0]
    assert "Reseated card 3" in suggestions and "None so far." not in suggestions


def test_earlier_occurrences_skip_the_concurrent_storm(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    """Last month the HIS database went down and was fixed. This morning the LIS database goes down, and
    four minutes later the HIS database again: the HIS page lists last month's outage, not the LIS one."""
    token = as_user("wang.lei")
    state = app.extensions["hospmon_router"]
    last_month = T0 - dt.timedelta(days=30)
    state.now = lambda: last_month
    seed(client, alert("his-db", last_month))
    old = incident_id(client, "his-db")
    fixed = client.post(
        f"/console/incidents/{old}/resolve",
        data={"csrf": token, "cause": "capacity", "fix": "Extended the tablespace", "minutes": "20"},
    )
    assert fixed.status_code == 303
    state.now = lambda: T0
    seed(client, alert("lis-db", T0))
    lis = incident_id(client, "lis-db")
    state.now = lambda: T0 + dt.timedelta(minutes=4)
    seed(client, alert("his-db", T0 + dt.timedelta(minutes=4)))
    his = incident_id(client, "his-db")
    page = client.get(f"/console/incidents/{his}").text
    assert _history(page) == [old] and lis not in _history(page)
    assert "Extended the tablespace" in page

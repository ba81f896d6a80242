"""The audit log an accreditation reviewer asks for: every action through the console and the JSON API, who,
what, when and from where; filters on the page; a date range exported as CSV or JSON Lines by an admin."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.console.audit import audit
from alertrouter.console.models import AuditEntry
from tests.console.conftest import T0, incident_id, seed
from tests.router.conftest import API_TOKEN, auth

API = {**auth(API_TOKEN), "X-Forwarded-For": "ignored"}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def entries(app: Flask) -> list[AuditEntry]:
    with app.extensions["hospmon_router"].sessions() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


def test_api_actions_are_audited_like_console_ones(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    seed(client)
    inc = incident_id(client, "core-sw-1")
    url = f"/api/v1/incidents/{inc}"
    client.post(f"{url}/acknowledge", headers=API)
    client.post(f"{url}/assign", json={"to": "zhao.min"}, headers=API)
    client.post(f"{url}/notes", json={"text": "line card 3 replaced"}, headers=API)
    client.post(f"{url}/resolve", json={"note": "failed over"}, headers=API)
    client.post(f"{url}/close", json={}, headers=API)
    assert client.post(f"{url}/close", json={}, headers=API).status_code == 409  # refused: nothing changed
    token = as_user("zhao.min")
    client.post(f"/console/incidents/{inc}/note", data={"csrf": token, "text": "RMA filed"})
    rows = [(e.actor, e.action, e.target, e.address, e.via) for e in entries(app)]
    target = f"incident {inc}"
    assert rows == [
        *[("wang.lei", a, target, "127.0.0.1", "api") for a in ("acknowledge", "assign", "note", "resolve")],
        ("wang.lei", "close", target, "127.0.0.1", "api"),
        ("zhao.min", "login", "", "127.0.0.1", "console"),
        ("zhao.min", "note", target, "127.0.0.1", "console"),
    ]
    assert entries(app)[1].detail == {"to": "zhao.min"}


def test_page_filters_and_export_for_review(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    state = app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        # A year of entries: one a day, alternating console and API, and one whose target reads as a formula.
        for day in range(365):
            when = T0 - dt.timedelta(days=day)
            via = "api" if day % 2 else "console"
            audit(
                "acknowledge", session=session, actor="li.qiang", at=when, target=f"incident {day}", via=via
            )
        audit("note", session=session, actor="=cmd|' /C calc'!A0", at=T0, target="+1", address="10.8.0.5")
    token = as_user("admin")
    assert token
    page = client.get("/console/audit", query_string={"actor": "li.qiang", "via": "api"}).text
    # A page of 100, none through the console.
    assert page.count('<td translate="no">li.qiang</td>') == 100 and "<td>console</td>" not in page
    assert "page=2" in page
    one_day = {"from": "2026-11-01", "to": "2026-11-01"}
    page = client.get("/console/audit", query_string=one_day).text
    assert page.count("<td>acknowledge</td>") == 1 and "incident 29" in page

    export = {"from": "2026-11-01", "to": "2026-11-07", "actor": "li.qiang"}
    resp = client.get("/console/audit/export", query_string={**export, "format": "csv"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert 'filename="hospmon-audit-2026-11-01-2026-11-07.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["target"] for r in rows] == [f"incident {d}" for d in range(29, 22, -1)]  # oldest first
    assert {r["via"] for r in rows} == {"api", "console"}
    assert rows[0]["at_local"].startswith("2026-11-01T09:00:00+08:00") and rows[0]["at"].endswith("Z")

    lines = client.get(
        "/console/audit/export", query_string={"from": "2026-11-30", "to": "2026-11-30", "format": "jsonl"}
    )
    records = [json.loads(line) for line in lines.get_data(as_text=True).splitlines()]
    weird = next(r for r in records if r["action"] == "note")
    assert weird["actor"] == "=cmd|' /C calc'!A0" and weird["address"] == "10.8.0.5"  # JSON keeps it as it is
    sheet = client.get("/console/audit/export", query_string={"from": "2026-11-30", "to": "2026-11-30"})
    assert "'=cmd" in sheet.get_data(as_text=True) and "'+1" in sheet.get_data(as_text=True)  # CSV disarms it

    # The exports are in the log too, with what was asked for.
    [last] = [e for e in entries(app) if e.action == "audit_exported"][-1:]
    assert (
        last.actor == "admin" and last.target == "2026-11-30..2026-11-30" and last.detail == {"format": "csv"}
    )


def test_export_is_for_admins_and_needs_its_dates(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    as_user("wang.lei")
    query = {"from": "2026-11-01", "to": "2026-11-07"}
    assert client.get("/console/audit/export", query_string=query).status_code == 403
    assert client.get("/console/audit").status_code == 403
    as_user("admin")
    assert client.get("/console/audit/export", query_string={"from": "2026-11-01"}).status_code == 400
    bad = {"from": "2026-11-07", "to": "2026-11-01"}
    assert client.get("/console/audit/export", query_string=bad).status_code == 400
    assert client.get("/console/audit/export", query_string={**query, "format": "xlsx"}).status_code == 400
    assert client.get("/console/audit", query_string={"from": "yesterday"}).status_code == 400

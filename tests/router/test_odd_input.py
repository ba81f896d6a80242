"""Odd webhook bodies get a 4xx with the reason and store nothing, on SQLite and PostgreSQL.

Alertmanager retries a 5xx forever, so a body that makes the router fail is re-sent until someone notices;
a 4xx tells it (and the engineer reading its log) that this one will never be taken.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.models import Alert, Delivery, Incident
from tests.router.conftest import auth, js
from tests.router.payloads import alert, webhook

T0 = dt.datetime(2026, 10, 1, 19, 10, tzinfo=dt.UTC)
URL = "/webhook/alertmanager"


def stored(app: Flask) -> int:
    """Count the rows intake writes."""
    with app.extensions["hospmon_router"].sessions() as session:
        return sum(
            int(session.execute(select(func.count()).select_from(m)).scalar_one())
            for m in (Alert, Incident, Delivery)
        )


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(webhook(alert("his-db", T0), truncated=1))
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


ODD = [
    # What Bug 6 saw: a year-9999 start in a zone west of UTC overflows Python's datetime.
    (["alerts", 0, "startsAt"], "9999-12-31T23:59:59.999999999-23:59", "alerts[0].startsAt", "out of range"),
    (["alerts", 0, "startsAt"], "1969-12-31T23:59:59+00:00", "alerts[0].startsAt", "out of range"),
    (["alerts", 0, "endsAt"], "1900-01-01T00:00:00Z", "alerts[0].endsAt", "out of range"),
    (["alerts", 0, "startsAt"], 1727809800, "alerts[0].startsAt", "expected an RFC 3339 time string"),
    (["alerts", 0, "labels", "ci"], "his-db\x00", "alerts[0].labels.ci", "NUL"),
    (["alerts", 0, "annotations", "summary"], "\ud800", "alerts[0].annotations.summary", "lone surrogate"),
    (["alerts", 0, "labels", "alertname"], "A" * 201, "alerts[0].labels.alertname", "at most 200"),
    (["alerts", 0, "labels", "ci"], "c" * 65, "alerts[0].labels.ci", "at most 64"),
    (["alerts", 0, "labels"], ["alertname", "x"], "alerts[0].labels", "expected an object"),
    (["alerts", 0, "annotations"], {"summary": {"x": 1}}, "alerts[0].annotations.summary", "a string"),
    (["alerts", 0, "generatorURL"], 42, "alerts[0].generatorURL", "expected a string"),
    (["alerts", 0], "firing", "alerts[0]", "expected an object"),
    (["truncatedAlerts"], 10**20, "truncatedAlerts", "from 0 to"),
    (["truncatedAlerts"], True, "truncatedAlerts", "from 0 to"),
    (["status"], {"a": [1]}, "status", "got dict"),
    (["receiver"], "r" * 201, "receiver", "at most 200"),
    (["groupLabels"], {"alertname": None}, "groupLabels.alertname", "a string"),
]


@pytest.mark.parametrize(("path", "value", "where", "why"), ODD)
def test_odd_field_is_400_naming_it(
    client: FlaskClient, app: Flask, path: list[Any], value: Any, where: str, why: str
) -> None:
    resp = client.post(URL, json=_with(path, value), headers=auth())
    reason = js(resp)["error"]["reason"]
    assert resp.status_code == 400, reason
    assert reason.startswith(where) and why in reason
    assert stored(app) == 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"version": "4", "alerts": ' + b"[" * 100_000, "nested too deeply"),
        (b"\xff\xfe{}", "not JSON"),
        (b"", "not JSON"),
        (b'{"version": "4", "alerts": [], "truncatedAlerts": 1' + b"0" * 5000 + b"}", "not JSON"),
    ],
)
def test_body_that_is_not_json_we_take_is_400(client: FlaskClient, app: Flask, body: bytes, why: str) -> None:
    resp = client.post(URL, data=body, headers={**auth(), "Content-Type": "application/json"})
    assert resp.status_code == 400 and why in js(resp)["error"]["reason"]
    assert stored(app) == 0


def test_api_bodies_and_queries_are_4xx_too(client: FlaskClient) -> None:
    from tests.router.conftest import API_TOKEN

    assert client.post(URL, json=webhook(alert("his-db", T0)), headers=auth()).status_code == 200
    api = auth(API_TOKEN)
    deep = b"[" * 100_000
    resp = client.post("/api/v1/incidents/1/notes", data=deep, headers=api)
    assert resp.status_code == 400 and "nested too deeply" in js(resp)["error"]["reason"]
    resp = client.post("/api/v1/incidents/1/notes", json={"text": "on it\x00"}, headers=api)
    assert resp.status_code == 400 and "NUL" in js(resp)["error"]["reason"]
    # A NUL in a query reaches a text column on PostgreSQL, which refuses it: still the client's fault.
    assert client.get("/api/v1/incidents?ci=his-db%00", headers=api).status_code in (200, 400)

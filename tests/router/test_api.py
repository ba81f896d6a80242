"""The JSON API: list and filter, one incident with its timeline, the actions on it."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from tests.router.conftest import API_TOKEN, auth, js
from tests.router.payloads import alert, webhook

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
API = auth(API_TOKEN)


def _seed(client: FlaskClient) -> None:
    body = webhook(
        alert("core-sw-1", T0), alert("his-web", T0), alert("fw-insurance-1", T0, severity="warning")
    )
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200


def test_list_and_filter(client: FlaskClient) -> None:
    _seed(client)
    found = js(client.get("/api/v1/incidents", headers=API))["incidents"]
    # Each CI's own incident is listed, P1 before P2 before P3: the HIS web service's too, whether or not
    # core-sw-1 explains it.
    assert [i["ci"] for i in found] == ["core-sw-1", "his-web", "fw-insurance-1"]
    assert [
        i["ci"] for i in js(client.get("/api/v1/incidents?priority=P3,P4", headers=API))["incidents"]
    ] == ["fw-insurance-1"]
    by_dept = js(client.get("/api/v1/incidents?department=billing&priority=P3", headers=API))["incidents"]
    assert [i["ci"] for i in by_dept] == ["fw-insurance-1"]
    assert (
        js(client.get("/api/v1/incidents?status=triggered&service=network", headers=API))["incidents"][0][
            "ci"
        ]
        == "core-sw-1"
    )
    bad = client.get("/api/v1/incidents?priority=P9", headers=API)
    assert bad.status_code == 400 and js(bad)["error"]["reason"].startswith("priority: unknown P9")
    assert client.get("/api/v1/incidents").status_code == 401


def test_lifecycle_with_timeline(client: FlaskClient, app: Flask) -> None:
    _seed(client)
    inc = js(client.get("/api/v1/incidents?ci=core-sw-1", headers=API))["incidents"][0]
    url = f"/api/v1/incidents/{inc['id']}"
    assert client.post(url + "/close", json={}, headers=API).status_code == 409
    acked = js(client.post(url + "/acknowledge", headers=API))
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "wang.lei"
    assert client.post(url + "/acknowledge", headers=API).status_code == 409
    assert client.post(url + "/assign", json={"to": "nobody"}, headers=API).status_code == 400
    assert js(client.post(url + "/assign", json={"to": "zhao.min"}, headers=API))["assignee"] == "zhao.min"
    note = client.post(url + "/notes", json={"text": "Line card 3 replaced"}, headers=API)
    assert note.status_code == 201 and js(note)["actor"] == "wang.lei"
    assert client.post(url + "/notes", json={"text": " "}, headers=API).status_code == 400
    done = js(client.post(url + "/resolve", json={"note": "supervisor engine failed over"}, headers=API))
    assert done["status"] == "resolved"
    assert (
        js(client.post(url + "/close", json={"note": "vendor RMA filed"}, headers=API))["status"] == "closed"
    )
    full = js(client.get(url, headers=API))
    kinds = [e["kind"] for e in full["timeline"]]
    assert kinds[0] == "opened"
    assert kinds[-5:] == ["acknowledged", "assigned", "note", "resolved", "closed"]
    assert {a["ci"] for a in full["alerts"]} == {"core-sw-1"}  # his-web has its own incident
    assert client.get("/api/v1/incidents/99999", headers=API).status_code == 404
    metrics = client.get("/metrics").text
    assert 'hospmon_router_mttr_seconds_count{priority="P1",team="network"} 1.0' in metrics
    assert 'hospmon_router_mttr_seconds_bucket{le="60.0",priority="P1",team="network"} 1.0' in metrics
    assert 'hospmon_router_mtta_seconds_bucket{le="+Inf",priority="P1",team="network"} 1.0' in metrics
    assert 'hospmon_router_incidents_open{priority="P3",team="network"} 1.0' in metrics
    assert 'hospmon_router_alerts_received_total{outcome="new"} 3.0' in metrics
    assert 'hospmon_router_oncall_gap_timestamp_seconds{team="network"} 0.0' in metrics


def test_openapi_and_oncall(client: FlaskClient) -> None:
    doc = js(client.get("/api/v1/openapi.json"))
    assert doc["openapi"].startswith("3.") and "/api/v1/incidents/{incident_id}/resolve" in doc["paths"]
    oncall = js(client.get("/api/v1/oncall", headers=API))["teams"]
    assert set(oncall) == {"network", "infra", "dba", "apps", "medtech"}
    assert all(v["person"] for v in oncall.values())


def test_unknown_route_has_the_same_error_body(client: FlaskClient) -> None:
    resp = client.get("/nope")
    assert resp.status_code == 404
    assert set(js(resp)["error"]) == {"status", "reason", "request_id"}
    assert resp.headers["X-Request-Id"] == js(resp)["error"]["request_id"]

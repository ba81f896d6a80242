"""The PHI guard at the router's door: a patient's identity in an alert is replaced before it is stored.

A LIS rule written in a hurry copies the sample's patient into an annotation; a switch port's description
names the clinic's doctor; a custom SQL probe exports an MRN. The ward still needs the page, so the alert
goes through, with each refused value replaced by ``[redacted]`` and the replacement recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from urllib.parse import quote_plus

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import generate_latest
from sqlalchemy import select

from alertrouter.context import Router
from alertrouter.models import Alert, Delivery, Event, Incident
from tests.canary import CANARY, leaks
from tests.router.conftest import API_TOKEN, REPO, auth, js
from tests.router.payloads import alert, webhook

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai


def lis_alert() -> dict[str, object]:
    """A critical-value backlog alert that carries the canary patient in labels and annotations."""
    patient = {"patient": CANARY.name, "pid": CANARY.mrn}
    a = alert("lis-app", T0, name="InterfaceMessageBacklog", extra=patient)
    a["annotations"] = {
        "summary": f"critical value for {CANARY.name} ({CANARY.visit}) not delivered",
        "description": f"call the ward at {CANARY.phone_dashed}; sample of {CANARY.resident_id_spaced}",
    }
    expr = quote_plus(f'lis_backlog{{pid="{CANARY.mrn}"}}')
    a["generatorURL"] = f"http://prometheus:9090/graph?g0.expr={expr}"
    return a


def test_canary_values_are_replaced_and_recorded(
    client: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    body = webhook(lis_alert(), truncated=1, groupLabels={"alertname": "X", "patient": CANARY.name})
    with caplog.at_level(logging.DEBUG):
        resp = client.post("/webhook/alertmanager", json=body, headers=auth())
    assert resp.status_code == 200 and js(resp)["alerts"] == {"new": 1}
    state = app.extensions["hospmon_router"]
    with state.sessions() as session:
        [row] = session.execute(select(Alert)).scalars().all()
        [inc] = session.execute(select(Incident)).scalars().all()
        [delivery] = session.execute(select(Delivery)).scalars().all()
        redacted = session.execute(select(Event).where(Event.kind == "redacted")).scalars().all()
    assert row.labels["patient"] == "[redacted]" and row.labels["pid"] == "[redacted]"
    assert row.labels["ci"] == "lis-app"  # what the on-call needs is untouched
    assert row.annotations["summary"] == "critical value for [redacted] ([redacted]) not delivered"
    assert row.generator_url == "[redacted]"
    assert row.redactions == [
        "labels.patient: han_name",
        "labels.pid: record_number",
        "annotations.summary: han_name",
        "annotations.summary: record_number",
        "annotations.description: mobile_phone",
        "annotations.description: resident_id",
        "generatorURL: record_number",
    ]
    [event] = redacted
    assert event.incident_id == inc.id and "replaced 7 value(s) with [redacted]" in event.text
    assert delivery.group_labels == {"alertname": "X", "patient": "[redacted]"}
    stored = " ".join(map(str, [row.labels, row.annotations, inc.title, event.text, delivery.group_key]))
    assert leaks(stored) == []
    # Counted by rule, logged by rule and label name, never by value.
    metrics = generate_latest(state.registry).decode()
    assert 'hospmon_router_phi_refused_total{rule="han_name"} 2.0' in metrics
    assert 'hospmon_router_phi_refused_total{rule="latin_name"} 0.0' in metrics
    assert "label=patient rule=han_name" in caplog.text and leaks(caplog.text) == []
    # The API shows the alert as stored.
    shown = client.get(f"/api/v1/incidents/{inc.id}", headers=auth(API_TOKEN)).get_data(as_text=True)
    assert leaks(shown) == [] and "[redacted]" in shown


def test_a_clean_alert_is_stored_as_sent(client: FlaskClient, app: Flask) -> None:
    a = alert("acc-sw-icu-5f", T0, name="NetworkInterfaceDown", extra={"ifAlias": "ICU 5楼护士站 uplink"})
    assert client.post("/webhook/alertmanager", json=webhook(a), headers=auth()).status_code == 200
    with app.extensions["hospmon_router"].sessions() as session:
        [row] = session.execute(select(Alert)).scalars().all()
    assert row.labels == a["labels"] and row.annotations == a["annotations"] and row.redactions == []


def test_the_shipped_rules_pass_the_router_guard_whole(router: Router) -> None:
    """No annotation or label our own rules write is mistaken for a patient (a hospital would mute it)."""
    for path in sorted((REPO / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                texts = {**rule.get("labels", {}), **rule.get("annotations", {})}
                for key, text in texts.items():
                    # A template stands for a label value; the guard sees values, not templates.
                    filled = re.sub(r"\{\{.*?\}\}", "x", str(text), flags=re.S)
                    assert router.guard.find(filled) == [], (path.name, rule.get("alert"), key)

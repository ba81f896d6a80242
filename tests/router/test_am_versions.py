"""Webhook bodies as Alertmanager 0.27, 0.32 and 0.34 send them, parsed and stored.

The fixtures follow Alertmanager's source for each tag (``notify/webhook/webhook.go`` Message,
``template/template.go`` Data): Go's encoder writes the struct fields in order, sorts map keys, escapes
``&``, ``<`` and ``>`` as ``\\u0026`` and the like, keeps nanoseconds, and ends with a newline. 0.32 added
``notification_reason``; 0.34 added ``routeLabels`` (a route's labels, rendered as templates).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.intake.parser import parse_webhook
from alertrouter.models import Alert, Delivery, Incident
from tests.router.conftest import auth, js
from tests.router.payloads import HERE, real

URL = "/webhook/alertmanager"


def send(client: FlaskClient, name: str) -> dict[str, int]:
    """Post a fixture byte for byte, as Alertmanager's HTTP client would."""
    body = (HERE / name).read_bytes()
    resp = client.post(URL, data=body, headers={**auth(), "Content-Type": "application/json"})
    assert resp.status_code == 200, js(resp)
    alerts: dict[str, int] = js(resp)["alerts"]
    return alerts


@pytest.mark.parametrize(
    ("name", "reason", "route_labels"),
    [
        ("am-0.27-firing.json", "", {}),
        ("am-0.32-firing.json", "first notification", {}),
        ("am-0.32-resolved.json", "some alerts resolved", {}),
        (
            "am-0.34-firing.json",
            "repeat interval elapsed",
            {"campus": "main", "stack": "monitoring/MonitoringTargetDown"},
        ),
    ],
)
def test_fields_each_version_adds(name: str, reason: str, route_labels: dict[str, str]) -> None:
    raw = (HERE / name).read_bytes()
    assert raw.endswith(b"}\n") and b"\\u0026" in raw  # Go's encoder, not a pretty-printed recording
    msg = parse_webhook(json.loads(raw))
    assert msg.notification_reason == reason
    assert msg.route_labels == route_labels
    assert all("&g0.tab=1" in a.generator_url for a in msg.alerts)


def test_0_27_firing_then_resolved(client: FlaskClient, app: Flask) -> None:
    assert send(client, "am-0.27-firing.json") == {"new": 1}
    assert send(client, "am-0.27-resolved.json") == {"resolved": 1}
    with app.extensions["hospmon_router"].sessions() as session:
        [row] = session.execute(select(Alert)).scalars().all()
        [inc] = session.execute(select(Incident)).scalars().all()
    # Nanoseconds kept to the microsecond; the zero end time of a firing alert is "no end".
    assert row.starts_at == dt.datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=dt.UTC)
    assert row.ends_at == dt.datetime(2026, 11, 30, 1, 17, 33, 100000, tzinfo=dt.UTC)
    assert row.labels == real("am-0.27-firing.json")["alerts"][0]["labels"]
    assert row.annotations["summary"] == "Database db-his-node1 is down or refuses the monitor (timeout)"
    assert row.ci == "db-his-node1" and row.alertname == "DatabaseDown" and row.severity == "critical"
    assert inc.status == "resolved" and inc.service == "his"


def test_0_32_group_with_truncation_and_a_partial_resolve(client: FlaskClient, app: Flask) -> None:
    assert send(client, "am-0.32-firing.json") == {"new": 2}
    assert send(client, "am-0.32-resolved.json") == {"resolved": 1}
    with app.extensions["hospmon_router"].sessions() as session:
        rows = session.execute(select(Alert).order_by(Alert.fingerprint)).scalars().all()
        [delivery] = session.execute(select(Delivery)).scalars().all()
        [inc] = session.execute(select(Incident)).scalars().all()
    assert [(r.labels["ifName"], r.status) for r in rows] == [("GE1/0/1", "resolved"), ("GE1/0/2", "firing")]
    # Go escaped these; the store keeps what the switch reported.
    assert rows[0].labels["ifAlias"] == "uplink to agg-sw-inpatient <LACP>"
    assert rows[1].labels["ifAlias"] == "uplink to agg-sw-outpatient & kiosks"
    assert delivery.truncated == 1 and delivery.alerts == 2
    assert delivery.group_labels == {"alertname": "NetworkInterfaceDown", "ci": "core-sw-2"}
    assert inc.status == "triggered"  # one uplink is still down


def test_0_34_route_labels_do_not_change_what_is_stored(client: FlaskClient, app: Flask) -> None:
    assert send(client, "am-0.34-firing.json") == {"new": 1}
    assert send(client, "am-0.34-firing.json") == {"repeat": 1}  # the repeat interval's re-send
    with app.extensions["hospmon_router"].sessions() as session:
        [row] = session.execute(select(Alert)).scalars().all()
    assert row.ci == "mon-inventory-exporter" and row.receive_count == 2
    assert "routeLabels" not in row.labels and "campus" not in row.labels

"""The OpenAPI document describes what the API really answers: its schemas come from the serializer's types,
and a listing, an acknowledged incident and an error validate against them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
from flask.testing import FlaskClient

from tests.router.conftest import API_TOKEN, auth, js
from tests.router.payloads import alert, webhook

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
API = auth(API_TOKEN)


def _validator(doc: dict[str, Any], ref: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """Validate against a schema of the document, resolving its ``#/components/...`` references."""
    return jsonschema.Draft202012Validator({**ref, "components": doc["components"]})


def test_answers_match_the_documented_schemas(client: FlaskClient) -> None:
    doc = js(client.get("/api/v1/openapi.json"))
    body = webhook(alert("core-sw-1", T0), alert("fw-insurance-1", T0, severity="warning"))
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    listing = js(client.get("/api/v1/incidents", headers=API))
    listed = doc["paths"]["/api/v1/incidents"]["get"]["responses"]["200"]["content"]["application/json"]
    _validator(doc, listed["schema"]).validate(listing)
    first = listing["incidents"][0]
    acked = js(client.post(f"/api/v1/incidents/{first['id']}/acknowledge", headers=API))
    _validator(doc, {"$ref": "#/components/schemas/IncidentJson"}).validate(acked)
    assert set(acked) == set(doc["components"]["schemas"]["IncidentJson"]["properties"])
    error = js(client.post(f"/api/v1/incidents/{first['id']}/assign", json={"to": 7}, headers=API))
    _validator(doc, {"$ref": "#/components/schemas/ErrorJson"}).validate(error)
    resolve = doc["paths"]["/api/v1/incidents/{incident_id}/resolve"]["post"]["requestBody"]
    note = _validator(doc, resolve["content"]["application/json"]["schema"])
    assert note.is_valid({"note": "replaced the line card"}) and not note.is_valid({"note": "x" * 10001})

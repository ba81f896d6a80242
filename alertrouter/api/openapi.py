"""The OpenAPI 3.1 document of the router's HTTP interface; its schemas come from `schemas`' types."""

from __future__ import annotations

from typing import Any

from alertrouter.api.schemas import json_schemas

_ERROR = {"$ref": "#/components/responses/Error"}
_ID = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}
FILTERS = (
    ("status", "comma-separated: triggered, acknowledged, resolved, closed"),
    ("priority", "comma-separated: P1..P4"),
    ("team", "team id"),
    ("service", "service id"),
    ("department", "department id"),
    ("ci", "configuration item id"),
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _action(summary: str, body: str | None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [_ID],
        "responses": {
            "200": {"description": "the incident after the change", "content": _json(_ref("IncidentJson"))},
            "400": _ERROR,
            "401": _ERROR,
            "404": _ERROR,
            "409": _ERROR,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    return op


def _incident_paths() -> dict[str, Any]:
    filters = [{"name": n, "in": "query", "schema": {"type": "string"}, "description": d} for n, d in FILTERS]
    filters += [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "offset", "in": "query", "schema": {"type": "integer"}},
    ]
    listed = {"type": "object", "properties": {"incidents": {"type": "array", "items": _ref("IncidentJson")}}}
    base = "/api/v1/incidents/{incident_id}"
    return {
        "/api/v1/incidents": {
            "get": {
                "summary": "List incidents",
                "parameters": filters,
                "responses": {"200": {"description": "incidents", "content": _json(listed)}, "400": _ERROR,
                              "401": _ERROR},
            }
        },
        base: {
            "get": {
                "summary": "One incident with alerts and timeline",
                "parameters": [_ID],
                "responses": {"200": {"description": "the incident"}, "401": _ERROR, "404": _ERROR},
            }
        },
        f"{base}/acknowledge": {"post": _action("Acknowledge", None)},
        f"{base}/assign": {"post": _action("Assign", "AssignBody")},
        f"{base}/resolve": {"post": _action("Resolve with a note", "NoteBody")},
        f"{base}/close": {"post": _action("Close", "NoteBody")},
        f"{base}/snooze": {"post": _action("Snooze: page again from step 1 unless resolved", "SnoozeBody")},
        f"{base}/reopen": {"post": _action("Reopen a resolved or closed incident", "NoteBody")},
        f"{base}/reassign": {"post": _action("Reassign to a team's on-call (paged)", "ReassignBody")},
        f"{base}/merge": {"post": _action("File an open incident under its open cause", "MergeBody")},
        f"{base}/split": {"post": _action("Not caused by: free it, or move an alert out", "SplitBody")},
        f"{base}/notes": {
            "post": {
                "summary": "Add a note",
                "parameters": [_ID],
                "requestBody": {"required": True, "content": _json(_ref("TextBody"))},
                "responses": {
                    "201": {"description": "the note"}, "400": _ERROR, "401": _ERROR, "404": _ERROR
                },
            }
        },
    }  # fmt: skip


def _service_paths() -> dict[str, Any]:
    webhook_errors = dict.fromkeys(("400", "401", "413", "503"), _ERROR)
    return {
        "/webhook/alertmanager": {
            "post": {
                "summary": "Alertmanager webhook (version 4)",
                "security": [{"token": []}, {"alertmanager": []}],
                "requestBody": {"required": True, "content": _json({"type": "object"})},
                "responses": {"200": {"description": "stored"}, **webhook_errors},
            }
        },
        "/api/v1/oncall": {
            "get": {"summary": "Who is on call now", "responses": {"200": {"description": "per team"}}}
        },
        "/-/healthy": {"get": {"security": [], "responses": {"200": {"description": "running"}}}},
        "/-/ready": {
            "get": {"security": [], "responses": {"200": {"description": "store answers"}, "503": _ERROR}}
        },
        "/metrics": {"get": {"security": [], "responses": {"200": {"description": "Prometheus metrics"}}}},
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "hospmon alert router", "version": "1"},
        "components": {
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
                "alertmanager": {"type": "http", "scheme": "basic"},
            },
            "schemas": json_schemas(),
            "responses": {"Error": {"description": "error", "content": _json(_ref("ErrorJson"))}},
        },
        "security": [{"token": []}],
        "paths": {**_service_paths(), **_incident_paths()},
    }

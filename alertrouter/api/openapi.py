"""The OpenAPI 3.1 document of the router's HTTP interface."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_ID = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _action(summary: str, body: dict[str, Any] | None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [_ID],
        "responses": {
            "200": {
                "description": "the incident after the change",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Incident"}}},
            },
            "401": _ERROR,
            "404": _ERROR,
            "409": _ERROR,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _text_body(key: str, required: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "string", "maxLength": 10000}},
        "required": [key] if required else [],
    }


def _ints(key: str) -> dict[str, Any]:
    return {"type": "object", "properties": {key: {"type": "integer"}}, "required": [key]}


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    filters = [
        {"name": n, "in": "query", "schema": {"type": "string"}, "description": d}
        for n, d in (
            ("status", "comma-separated: triggered, acknowledged, resolved, closed"),
            ("priority", "comma-separated: P1..P4"),
            ("team", "team id"),
            ("service", "service id"),
            ("department", "department id"),
            ("ci", "configuration item id"),
        )
    ] + [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}},
        {"name": "offset", "in": "query", "schema": {"type": "integer"}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "hospmon alert router", "version": "1"},
        "components": {
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer"},
                "alertmanager": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "reason": {"type": "string"},
                                "request_id": {"type": "string"},
                            },
                        }
                    },
                },
                "Incident": {
                    "type": "object",
                    "properties": {
                        k: {"type": t}
                        for k, t in (
                            ("id", "integer"),
                            ("title", "string"),
                            ("status", "string"),
                            ("priority", "string"),
                            ("explanation", "string"),
                            ("owner_explanation", "string"),
                            ("ci", "string"),
                            ("service", "string"),
                            ("team", "string"),
                            ("assignee", "string"),
                            ("departments", "array"),
                            ("created_at", "string"),
                        )
                    },
                },
            },
            "responses": {
                "Error": {
                    "description": "error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
        "security": [{"token": []}],
        "paths": {
            "/webhook/alertmanager": {
                "post": {
                    "summary": "Alertmanager webhook (version 4)",
                    "security": [{"token": []}, {"alertmanager": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": {"description": "stored"},
                        "400": _ERROR,
                        "401": _ERROR,
                        "413": _ERROR,
                        "503": _ERROR,
                    },
                }
            },
            "/api/v1/incidents": {
                "get": {
                    "summary": "List incidents",
                    "parameters": filters,
                    "responses": {"200": {"description": "incidents"}, "400": _ERROR, "401": _ERROR},
                }
            },
            "/api/v1/incidents/{incident_id}": {
                "get": {
                    "summary": "One incident with alerts and timeline",
                    "parameters": [_ID],
                    "responses": {"200": {"description": "the incident"}, "401": _ERROR, "404": _ERROR},
                }
            },
            "/api/v1/incidents/{incident_id}/acknowledge": {"post": _action("Acknowledge", None)},
            "/api/v1/incidents/{incident_id}/assign": {"post": _action("Assign", _text_body("to", True))},
            "/api/v1/incidents/{incident_id}/resolve": {
                "post": _action("Resolve with a note", _text_body("note", False))
            },
            "/api/v1/incidents/{incident_id}/close": {"post": _action("Close", _text_body("note", False))},
            "/api/v1/incidents/{incident_id}/snooze": {
                "post": _action(
                    "Snooze: page again from step 1 after `minutes` unless resolved", _ints("minutes")
                )
            },
            "/api/v1/incidents/{incident_id}/reopen": {
                "post": _action("Reopen a resolved or closed incident", _text_body("note", False))
            },
            "/api/v1/incidents/{incident_id}/reassign": {
                "post": _action(
                    "Reassign to a team (its on-call person) or a person of it, and page them",
                    {"type": "object", "properties": {"team": {"type": "string"}, "to": {"type": "string"}}},
                )
            },
            "/api/v1/incidents/{incident_id}/merge": {
                "post": _action("File under another open incident (`into`) as caused by it", _ints("into"))
            },
            "/api/v1/incidents/{incident_id}/split": {
                "post": _action(
                    "Not caused by: free from its cause, or move `alert_id` to a new incident",
                    {"type": "object", "properties": {"alert_id": {"type": "integer"}}},
                )
            },
            "/api/v1/incidents/{incident_id}/notes": {
                "post": {
                    "summary": "Add a note",
                    "parameters": [_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _text_body("text", True)}},
                    },
                    "responses": {"201": {"description": "the note"}, "401": _ERROR, "404": _ERROR},
                }
            },
            "/api/v1/oncall": {
                "get": {"summary": "Who is on call now", "responses": {"200": {"description": "per team"}}}
            },
            "/-/healthy": {"get": {"security": [], "responses": {"200": {"description": "running"}}}},
            "/-/ready": {
                "get": {"security": [], "responses": {"200": {"description": "store answers"}, "503": _ERROR}}
            },
            "/metrics": {
                "get": {"security": [], "responses": {"200": {"description": "Prometheus metrics"}}}
            },
        },
    }

"""Turn incidents, alerts and timeline events into JSON-ready dictionaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alertrouter.api.schemas import IncidentJson
from alertrouter.models import Alert, Event, Incident


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def incident_json(inc: Incident) -> IncidentJson:
    """Summarise an incident."""
    return {
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "priority": inc.priority,
        "explanation": inc.explanation,
        "owner_explanation": inc.owner_explanation,
        "severity": inc.severity,
        "alertname": inc.alertname,
        "ci": inc.ci,
        "service": inc.service,
        "team": inc.team,
        "assignee": inc.assignee,
        "departments": [d.department for d in inc.departments],
        "parent_id": inc.parent_id,
        "created_at": _time(inc.created_at),
        "acknowledged_at": _time(inc.acknowledged_at),
        "acknowledged_by": inc.acknowledged_by,
        "resolved_at": _time(inc.resolved_at),
        "closed_at": _time(inc.closed_at),
        "escalation_step": inc.escalation_step,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    """Describe an alert."""
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "status": alert.status,
        "alertname": alert.alertname,
        "severity": alert.severity,
        "ci": alert.ci,
        "starts_at": _time(alert.starts_at),
        "ends_at": _time(alert.ends_at),
        "labels": alert.labels,
        "annotations": alert.annotations,
        "receive_count": alert.receive_count,
        "last_received_at": _time(alert.last_received_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    """Describe a timeline event."""
    return {
        "id": event.id,
        "at": _time(event.at),
        "kind": event.kind,
        "actor": event.actor,
        "text": event.text,
        "data": event.data,
    }

"""Build Alertmanager webhook (v4) payloads for tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "payloads"
ZERO = "0001-01-01T00:00:00Z"


def real(name: str) -> dict[str, Any]:
    """Load a recorded payload."""
    data: dict[str, Any] = json.loads((HERE / name).read_text())
    return data


def iso(when: dt.datetime) -> str:
    """Write a time the way Alertmanager does."""
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def alert(
    ci: str | None,
    starts: dt.datetime,
    *,
    name: str = "TargetDown",
    severity: str = "critical",
    status: str = "firing",
    ends: dt.datetime | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Build one alert; the fingerprint follows the labels, as Alertmanager's does."""
    labels = {"alertname": name, "severity": severity, **({"ci": ci} if ci else {}), **(extra or {})}
    fp = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    if status == "resolved" and ends is None:
        ends = starts + dt.timedelta(minutes=5)
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{name} on {ci}"},
        "startsAt": iso(starts),
        "endsAt": iso(ends) if ends else ZERO,
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fp,
    }


def webhook(*alerts: dict[str, Any], truncated: int = 0, **extra: Any) -> dict[str, Any]:
    """Wrap alerts in a webhook message."""
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "receiver": "hospmon-router",
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"] if alerts else ""},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": truncated,
        **extra,
    }

"""Copies of one alert with different starts, as an HA pair of Prometheus servers sends them.

Two Prometheus replicas evaluate the same rule at their own moments, so they fire one alert (the same labels,
so the same fingerprint, once Prometheus drops the `replica` label) with starts seconds apart; a replica that
restarted fires it again with a start from after its restart. Alertmanager takes alerts with the same labels
whose times overlap as one alert and keeps the earliest start, but what it sends depends on which copy it
held when the group went out, and each Alertmanager of a pair may send another start. So the router does as
Alertmanager does, and an alert keeps one row:

- a firing with another start while a stored copy of the alert still fires, in an open incident, is that copy
  (a repeat); once a person resolved that incident, a new start is a new occurrence;
- a firing that started before a stored copy ended is a late copy of that ended occurrence (stale);
- a resolve ends every firing copy that started before the resolve's end;
- a firing that starts after every stored copy ended is a new occurrence: a new row, maybe a new incident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alertrouter.intake.parser import ParsedAlert
from alertrouter.models import OPEN

Ending = tuple[int, "dt.datetime | None", str]


def _ended(row: Any) -> dt.datetime:
    end: dt.datetime | None = row.ends_at
    return end if end is not None else row.starts_at


def copy_of(alert: ParsedAlert, rows: list[Any]) -> Any | None:
    """Return the stored row (of the same fingerprint, another start) this alert is a copy of, or None."""
    firing = sorted((r for r in rows if r.status == "firing"), key=lambda r: r.starts_at)
    if alert.status == "firing":
        # Only while its incident is open: after a person resolved it, a new start is a new occurrence.
        live = [r for r in firing if r.incident_status is None or r.incident_status in OPEN]
        if live:
            return live[0]
        ended = [r for r in rows if _ended(r) > alert.starts_at]
        return max(ended, key=lambda r: r.starts_at) if ended else None
    end = alert.ends_at or alert.starts_at
    started = [r for r in firing if r.starts_at <= end]
    if started:
        return started[0]
    overlapping = [r for r in rows if r.starts_at <= end and _ended(r) >= alert.starts_at]
    return max(overlapping, key=lambda r: r.starts_at) if overlapping else None


def also_ended(alert: ParsedAlert, row_id: int, rows: list[Any]) -> list[Ending]:
    """Return the other firing copies a resolve ends: ones two replicas stored in the same moment."""
    if alert.status != "resolved":
        return []
    end = alert.ends_at or alert.starts_at
    return [
        (r.id, alert.ends_at, f"resolved with its copy that started {alert.starts_at:%Y-%m-%d %H:%M:%S} UTC")
        for r in rows
        if r.id != row_id and r.status == "firing" and r.starts_at <= end
    ]

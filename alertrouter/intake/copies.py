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
- a firing that starts after every stored copy ended is a new occurrence: a new row, maybe a new incident;
- a copy that started earlier than the stored one moves the stored start back to it (the earliest start is
  the alert's, as Alertmanager keeps it), unless another stored occurrence had not ended by then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alertrouter.intake.opening import Raced
from alertrouter.intake.parser import ParsedAlert
from alertrouter.models import ALERTS, EVENTS, OPEN
from alertrouter.msg import T, msg_data

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
        (
            r.id,
            alert.ends_at,
            T(
                "resolved with its copy that started {start} UTC",
                start=f"{alert.starts_at:%Y-%m-%d %H:%M:%S}",
            ),
        )
        for r in rows
        if r.id != row_id and r.status == "firing" and r.starts_at <= end
    ]


def started_earlier(alert: ParsedAlert, row: Any, rows: list[Any]) -> bool:
    """Tell whether a copy's start is an earlier start of the stored row's occurrence, to move the row to."""
    if alert.starts_at >= row.starts_at:
        return False
    # A start from before another stored occurrence ended may be that one's: never pull a newer one back.
    return all(
        r.status == "resolved" and r.ends_at is not None and r.ends_at < alert.starts_at
        for r in rows
        if r.id != row.id and r.starts_at < row.starts_at
    )


def move_starts(
    earliest: dict[int, tuple[dt.datetime, dt.datetime]], *, session: Session, tz: ZoneInfo, now: dt.datetime
) -> None:
    """Move stored alerts (id: earlier start, stored start) back to the earlier start a copy brought; say so
    once on the incident's timeline."""
    stmt = (
        update(ALERTS)
        .where(ALERTS.c.id == bindparam("aid"), ALERTS.c.starts_at > bindparam("start"))
        .values(starts_at=bindparam("start"))
        .returning(ALERTS.c.id, ALERTS.c.incident_id, ALERTS.c.alertname, ALERTS.c.ci)
    )
    events = []
    for alert_id, (start, was) in sorted(earliest.items()):
        try:
            row = session.execute(stmt, {"aid": alert_id, "start": start}).one_or_none()
        except IntegrityError as exc:  # another replica stored that start as an alert of its own meanwhile
            raise Raced("another replica stored an earlier copy of an alert first") from exc
        if row is None or row.incident_id is None:
            continue
        text = T(
            "{alert} on {ci} started at {start}, before the copy received first ({was}): "
            "the other Prometheus of the pair fired it first",
            alert=row.alertname,
            ci=row.ci or T("no CI"),
            start=f"{start.astimezone(tz):%Y-%m-%d %H:%M:%S}",
            was=f"{was.astimezone(tz):%H:%M:%S}",
        )
        events.append(
            {
                "incident_id": row.incident_id,
                "at": now,
                "kind": "alert_firing",
                "actor": "router",
                "text": text,
                "data": {"alert_id": row.id, **msg_data(text)},
            }
        )
    if events:
        session.execute(EVENTS.insert(), events)

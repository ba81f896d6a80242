"""Write timeline events; every change to an incident goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from alertrouter.models import EVENTS
from alertrouter.msg import msg_data

_INSERT = EVENTS.insert()
"""Built once: SQLAlchemy compiles it once and binds each event's values."""


def _row(
    incident_id: int, kind: str, text: str, at: dt.datetime, actor: str, data: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "at": at,
        "kind": kind,
        "actor": actor,
        "text": text,
        "data": {**(data or {}), **msg_data(text)},
    }


def record(
    session: Session,
    incident_id: int,
    kind: str,
    text: str,
    *,
    at: dt.datetime,
    actor: str = "router",
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event to an incident's timeline.

    The row goes straight to the session's connection, without flushing the session's pending changes first:
    the incident exists already, and its changes are written together when the session flushes or commits.
    """
    session.connection().execute(_INSERT, _row(incident_id, kind, text, at, actor, data))


class Batch:
    """Events gathered while a job goes through many incidents, appended in one statement by `write`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: list[dict[str, Any]] = []

    def add(
        self, incident_id: int, kind: str, text: str, *, at: dt.datetime, data: dict[str, Any] | None = None
    ) -> None:
        """Take one event by the router to append, as `record` would."""
        self.rows.append(_row(incident_id, kind, text, at, "router", data))

    def write(self) -> None:
        """Append the events taken, in the order taken, in the session's transaction."""
        if self.rows:
            self.session.connection().execute(_INSERT, self.rows)
            self.rows = []

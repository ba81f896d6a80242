"""Write timeline events; every change to an incident goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from alertrouter.models import EVENTS
from alertrouter.msg import msg_data

_INSERT = EVENTS.insert()
"""Built once: SQLAlchemy compiles it once and binds each event's values."""


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
    row = {"incident_id": incident_id, "at": at, "kind": kind, "actor": actor, "text": text}
    session.connection().execute(_INSERT, {**row, "data": {**(data or {}), **msg_data(text)}})

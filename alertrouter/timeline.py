"""Write timeline events; every change to an incident goes through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from alertrouter.models import Event
from alertrouter.msg import msg_data


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
    """Append one event to an incident's timeline."""
    session.execute(
        insert(Event).values(
            incident_id=incident_id,
            at=at,
            kind=kind,
            actor=actor,
            text=text,
            data={**(data or {}), **msg_data(text)},
        )
    )

"""The audit log: who changed what through the console, from where."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.console.models import AuditEntry


def audit(
    action: str,
    *,
    session: Session,
    actor: str,
    at: dt.datetime,
    target: str = "",
    address: str = "",
    detail: dict[str, Any] | None = None,
    via: str = "console",
) -> None:
    """Record one change; call it in the same transaction as the change itself."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor[:64],
            action=action,
            target=target[:200],
            address=address[:64],
            detail=detail or {},
            via=via,
        )
    )


def recent(*, session: Session, limit: int = 200) -> list[AuditEntry]:
    """Return the newest audit entries first."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return list(session.execute(query).scalars())

"""Claim rows for one worker: SKIP LOCKED on PostgreSQL; SQLite serialises writers anyway."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from alertrouter.db import is_postgres


def skip_locked(query: Select[Any], session: Session) -> Select[Any]:
    """Lock the selected rows so other replicas skip them instead of waiting or doubling the work."""
    if is_postgres(session):
        return query.with_for_update(skip_locked=True)
    return query

"""The incident page's further actions: snooze, reopen, reassign, merge, split ("not caused by")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from alertrouter import actions
from alertrouter.context import Router
from alertrouter.errors import ApiError

NAMES = ("snooze", "reopen", "reassign", "merge", "split")


def _number(form: MultiDict[str, str], key: str, *, required: bool = True) -> int | None:
    raw = form.get(key, "").strip().lstrip("#")
    if not raw and not required:
        return None
    if not raw.isdigit():
        raise ApiError(400, f"{key}: give a number")
    return int(raw)


def perform(
    router: Router, name: str, incident_id: int, form: MultiDict[str, str], *, session: Session, by: str,
    now: dt.datetime,
) -> dict[str, Any]:  # fmt: skip
    """Do one action from a console form; return what the audit log records about it."""
    if name == "snooze":
        minutes = _number(form, "minutes") or 0
        actions.snooze(incident_id, session=session, by=by, minutes=minutes, now=now)
        return {"minutes": minutes}
    if name == "reopen":
        why = form.get("why", "").strip()[:2000]
        actions.reopen_by(router, incident_id, session=session, by=by, why=why, now=now)
        return {"why": why}
    if name == "reassign":
        team, person = form.get("team") or None, form.get("to") or None
        actions.reassign(router, incident_id, session=session, by=by, team=team, person=person, now=now)
        return {"team": team, "to": person}
    if name == "merge":
        into = _number(form, "into") or 0
        actions.merge(incident_id, session=session, by=by, into=into, now=now)
        return {"into": into}
    alert_id = _number(form, "alert_id", required=False)
    new = actions.split(router, incident_id, session=session, by=by, alert_id=alert_id, now=now)
    return {"alert_id": alert_id, "incident": new.id}

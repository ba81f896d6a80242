"""What the store is asked per delivery and per escalation pass, on SQLite and PostgreSQL.

The on-call plan a lead edits in the console is read with each delivery's one lookup, not by a statement of
its own, and once per escalation pass, not once per page; a pass writes its timeline in one statement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from alertrouter.worker.escalation import escalate_due
from tests.router.conftest import T0, auth, events
from tests.router.payloads import alert, webhook


def _statements(app: Flask) -> list[str]:
    """Record every statement the app's engine sends from now on."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(app.extensions["hospmon_router"].engine, "before_cursor_execute", note)
    return seen


def test_disk_alerts_read_the_rota_with_the_lookup_and_page_in_one_pass(
    app: Flask, client: FlaskClient
) -> None:
    state = app.extensions["hospmon_router"]
    state.now = lambda: T0
    seen = _statements(app)
    # Two databases fill their disks on a Monday morning: not reachability alerts, both page at once.
    body = webhook(
        *(alert(ci, T0, name="HostDiskFilling", severity="warning") for ci in ("his-db", "lis-db"))
    )
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    rota = [s for s in seen if "oncall_changes" in s]
    assert len(rota) == 1 and "FROM alerts" in rota[0], rota  # the delivery's lookup, nothing else
    seen.clear()
    with state.sessions() as session, session.begin():
        assert escalate_due(state.router, session=session, now=T0 + dt.timedelta(seconds=5)) == 2
    assert len([s for s in seen if "oncall_changes" in s]) == 1  # one plan for both pages
    assert len([s for s in seen if s.startswith("INSERT INTO timeline")]) == 1
    assert len(events(app, "paged")) == 2

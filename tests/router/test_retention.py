"""Retention: what a hospital keeps, for how long, and the worker removing the rest in small batches.

Closed incidents, their timeline and the audit log stay 400 days (more than the six months China's
Cybersecurity Law asks of network logs); the raw alert rows behind a resolved incident go after 30 days.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.console.audit import audit
from alertrouter.console.models import AuditEntry
from alertrouter.models import Alert, Delivery, Event, Incident
from alertrouter.settings import RetentionConfig, load_settings
from alertrouter.worker.retention import Retention
from hospmon.config import ConfigError
from tests.router.conftest import auth
from tests.router.payloads import alert, webhook

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def at(app: Flask, when: dt.datetime) -> None:
    """Set the app's clock."""
    app.extensions["hospmon_router"].now = lambda: when


def outage(
    client: FlaskClient, app: Flask, ci: str, began: dt.datetime, *, lasted: dt.timedelta | None
) -> None:
    """An alert on `ci` that fired at `began` and, if it `lasted`, resolved after that."""
    at(app, began)
    firing = alert(ci, began)
    assert (
        client.post("/webhook/alertmanager", json=webhook(firing, truncated=1), headers=auth()).status_code
        == 200
    )
    if lasted is not None:
        at(app, began + lasted)
        done = alert(ci, began, status="resolved", ends=began + lasted)
        assert client.post("/webhook/alertmanager", json=webhook(done), headers=auth()).status_code == 200


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.extensions["hospmon_router"].sessions() as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def seed(client: FlaskClient, app: Flask) -> None:
    """Two years of a small hospital's faults, and audit entries of the same ages."""
    outage(client, app, "his-db", NOW - 500 * DAY, lasted=dt.timedelta(hours=1))  # past 400 days: goes
    outage(client, app, "pacs-archive", NOW - 100 * DAY, lasted=dt.timedelta(hours=2))  # alerts go
    outage(client, app, "lis-db", NOW - 10 * DAY, lasted=dt.timedelta(minutes=20))  # all stays
    outage(client, app, "core-sw-2", NOW - 450 * DAY, lasted=None)  # still firing: the incident stays
    with app.extensions["hospmon_router"].sessions() as session, session.begin():
        for age in (500, 401, 399, 10):
            audit("login", session=session, actor="wang.lei", at=NOW - age * DAY, address="10.1.2.3")


def test_each_table_keeps_its_time(client: FlaskClient, app: Flask) -> None:
    seed(client, app)
    state = app.extensions["hospmon_router"]
    removed, backlog = Retention(RetentionConfig()).run(state.sessions, now=NOW, lock=state.write_lock)
    assert not backlog
    assert removed == {"alerts": 2, "deliveries": 3, "incidents": 1, "timeline": 1, "audit": 2}
    with state.sessions() as session:
        cis = dict(session.execute(select(Incident.ci, Incident.status)).all())
        alerts = sorted(session.execute(select(Alert.ci)).scalars())
        logins = sorted(
            NOW - a
            for a in session.execute(select(AuditEntry.at).where(AuditEntry.action == "login")).scalars()
        )
        opened = (
            session.execute(select(Event.kind).join(Incident).where(Incident.ci == "core-sw-2"))
            .scalars()
            .all()
        )
        [entry] = session.execute(select(AuditEntry).where(AuditEntry.action == "retention")).scalars().all()
    assert cis == {"pacs-archive": "resolved", "lis-db": "resolved", "core-sw-2": "triggered"}
    assert alerts == ["core-sw-2", "lis-db"]  # pacs-archive's rows went 30 days after it resolved
    assert logins == [10 * DAY, 399 * DAY]
    assert "opened" not in opened  # the open incident stays; its 450-day-old timeline lines do not
    # The pass is in the audit log itself: who (the router's worker), what, when.
    assert entry.actor == "router" and entry.via == "worker" and entry.detail["incidents"] == 1


def test_batches_leave_the_intake_free(client: FlaskClient, app: Flask) -> None:
    """Between two batches a new delivery is taken at once: the purge never holds the store for long."""
    state = app.extensions["hospmon_router"]
    for i in range(7):
        outage(client, app, f"ws-{i}", NOW - 60 * DAY - i * DAY, lasted=dt.timedelta(minutes=5))
    at(app, NOW)
    batches: list[tuple[str, int]] = []

    def deliver(table: str, n: int) -> None:
        batches.append((table, n))
        fresh = webhook(
            alert("his-web", NOW + len(batches) * dt.timedelta(seconds=1), extra={"b": str(len(batches))})
        )
        assert client.post("/webhook/alertmanager", json=fresh, headers=auth()).status_code == 200

    config = RetentionConfig(batch_size=3, max_batches=2)
    retention = Retention(config)
    _, backlog = retention.run(state.sessions, now=NOW, lock=state.write_lock, after_batch=deliver)
    assert ("alerts", 3) in batches and backlog  # 7 rows, 2 batches of 3 per pass: one left for the next
    assert retention.run_if_due(state.sessions, now=NOW, lock=state.write_lock)["alerts"] == 1
    assert count(app, Alert, Alert.ci.like("ws-%")) == 0
    assert count(app, Alert, Alert.ci == "his-web") == len(batches)  # every delivery between batches stored
    # Nothing left: the next pass waits its interval.
    assert retention.run_if_due(state.sessions, now=NOW + dt.timedelta(minutes=1)) == {}


def test_two_replicas_purging_at_once_remove_each_row_once(client: FlaskClient, app: Flask) -> None:
    state = app.extensions["hospmon_router"]
    for i in range(12):
        outage(client, app, f"ws-{i}", NOW - 60 * DAY, lasted=dt.timedelta(minutes=5))
    config = RetentionConfig(batch_size=2, max_batches=100)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            results.append(Retention(config).run(state.sessions, now=NOW, lock=state.write_lock)[0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(r.get("alerts", 0) for r in results) == 12
    assert count(app, Alert) == 0 and count(app, Delivery) == 0


def test_retention_shorter_than_six_months_is_refused(write_config: Callable[..., Path]) -> None:
    path = write_config("sqlite:///x.db", retention={"audit_days": 90, "alerts_days": 7})
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert f"{path}: retention" in str(err.value) and "audit_days 90" in str(err.value)
    assert "Cybersecurity Law (art. 21)" in str(err.value)

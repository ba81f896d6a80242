"""Changes create, renew and remove silences in a real Alertmanager; alerts inside a window are flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from alertrouter.alertmanager import Alertmanager
from alertrouter.app import create_app
from alertrouter.console.models import Role
from alertrouter.console.users import create_user
from alertrouter.context import load_router
from alertrouter.errors import ApiError
from alertrouter.worker.run import Worker
from tests.console.conftest import PASSWORD, csrf_of, incident_id, login, seed
from tests.router.payloads import alert
from tests.servers import alertmanager

AM_CONFIG = """
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


@pytest.fixture
def am_url(tmp_path: Path) -> Iterator[str]:
    """Run a real Alertmanager."""
    with alertmanager(AM_CONFIG, tmp_path / "am") as url:
        yield url


@pytest.fixture
def am_app(database_url: str, am_url: str, write_config: Callable[..., Path]) -> Iterator[Flask]:
    """The router on SQLite or PostgreSQL, pointed at the Alertmanager, with an engineer."""
    app = create_app(load_router(write_config(database_url, alertmanager={"url": am_url})))
    state = app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        create_user("wang.lei", PASSWORD, Role.engineer, session=session, now=state.now(), rounds=4)
    yield app
    state.engine.dispose()


def _silences(am_url: str) -> list[dict[str, object]]:
    found = requests.get(f"{am_url}/api/v2/silences", timeout=5).json()
    return [s for s in found if s["status"]["state"] in ("active", "pending")]


def _local(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%dT%H:%M")


def _plan_upgrade(client: FlaskClient, title: str, cis: str) -> tuple[str, dt.datetime]:
    """Have Wang Lei record a change under way now, for an hour; return his CSRF token and the minute."""
    assert login(client, "wang.lei") == 303
    token = csrf_of(client.get("/console/changes").text)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    form = {
        "csrf": token,
        "title": title,
        "cis": cis,
        "starts": _local(now - dt.timedelta(minutes=5)),
        "ends": _local(now + dt.timedelta(hours=1)),
        "recurrence": "none",
    }
    assert client.post("/console/changes", data=form).status_code == 303
    return token, now


def test_change_silences_its_cis_and_flags_incidents(am_app: Flask, am_url: str) -> None:
    client: FlaskClient = am_app.test_client()
    token, now = _plan_upgrade(client, "核心交换机升级 core switch upgrade", "core-sw-1, his-web")
    (silence,) = _silences(am_url)
    assert silence["matchers"] == [
        {"name": "ci", "value": "core\\-sw\\-1|his\\-web", "isRegex": True, "isEqual": True}
    ]
    assert silence["createdBy"] == "wang.lei" and silence["status"]["state"] == "active"
    # Alertmanager itself agrees the CIs are silenced: an alert on one of them is muted.
    body = [{"labels": {"alertname": "TargetDown", "ci": "core-sw-1", "severity": "critical"}}]
    assert requests.post(f"{am_url}/api/v2/alerts", json=body, timeout=5).status_code == 200
    muted = requests.get(f"{am_url}/api/v2/alerts", params={"silenced": "true"}, timeout=5).json()
    assert [a["labels"]["ci"] for a in muted] == ["core-sw-1"]
    # An incident opened inside the window is flagged.
    seed(client, alert("core-sw-1", now))
    page = client.get(f"/console/incidents/{incident_id(client, 'core-sw-1')}").text
    assert 'id="during-change"' in page
    assert 'class="flag during"' in client.get("/console/").text
    assert "core-sw-1" in client.get("/console/handover").text
    # Cancelling lifts the silence.
    assert client.post("/console/changes/1/cancel", data={"csrf": token}).status_code == 303
    assert _silences(am_url) == []
    assert (
        'id="during-change"' not in client.get(f"/console/incidents/{incident_id(client, 'core-sw-1')}").text
    )


def test_a_cancel_that_fails_to_commit_keeps_the_silence(
    am_app: Flask, am_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wang Lei cancels the core switch upgrade, and the audit write after the cancel fails: the change is
    still planned, so its silence stays (nobody is paged about work still going on). He cancels again while
    Alertmanager refuses to end the silence: the change is cancelled, and the worker's next pass lifts it."""
    client = am_app.test_client()
    token, _ = _plan_upgrade(client, "core switch upgrade", "core-sw-1")
    (silence,) = _silences(am_url)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ApiError(409, "the audit log refused the entry")

    monkeypatch.setattr("alertrouter.console.views_ops.audit", refuse)
    assert client.post("/console/changes/1/cancel", data={"csrf": token}).status_code == 409
    assert [s["id"] for s in _silences(am_url)] == [silence["id"]]
    assert "/console/changes/1/cancel" in client.get("/console/changes").text  # still planned
    monkeypatch.undo()

    def unreachable(*_args: object) -> None:
        raise requests.ConnectionError("Alertmanager unreachable")

    monkeypatch.setattr(Alertmanager, "expire_silence", unreachable)
    assert client.post("/console/changes/1/cancel", data={"csrf": token}).status_code == 502
    assert "/console/changes/1/cancel" not in client.get("/console/changes").text  # cancelled
    assert [s["id"] for s in _silences(am_url)] == [silence["id"]]
    monkeypatch.undo()
    state = am_app.extensions["hospmon_router"]
    Worker(state.router, state.sessions, now=state.now).run_once()
    assert _silences(am_url) == []


def test_recurring_window_gets_the_next_silence(am_app: Flask, am_url: str) -> None:
    client = am_app.test_client()
    assert login(client, "wang.lei") == 303
    token = csrf_of(client.get("/console/changes").text)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    first = now - dt.timedelta(days=2, hours=1)
    form = {
        "csrf": token,
        "title": "nightly backup window",
        "cis": "backup-1",
        "starts": _local(first),
        "ends": _local(first + dt.timedelta(minutes=30)),
        "recurrence": "daily",
    }
    assert client.post("/console/changes", data=form).status_code == 303
    (silence,) = _silences(am_url)
    starts = dt.datetime.fromisoformat(str(silence["startsAt"]).replace("Z", "+00:00"))
    assert silence["status"]["state"] == "pending"  # type: ignore[index]
    assert abs((starts - (first + dt.timedelta(days=3))).total_seconds()) < 1
    # Once the window has passed, the next sync moves the silence on a day.
    state = am_app.extensions["hospmon_router"]
    state.now = lambda: starts + dt.timedelta(minutes=31)
    assert login(client, "wang.lei") == 303
    token = csrf_of(client.get("/console/changes").text)
    moved = [s for s in _silences(am_url) if s["startsAt"] != silence["startsAt"]]
    assert len(moved) == 1
    # The router's worker keeps it moving without anyone opening the console.
    later = starts + dt.timedelta(days=1, minutes=31)
    Worker(state.router, state.sessions, now=lambda: later).run_once()
    (latest,) = [
        s for s in _silences(am_url) if s["startsAt"] not in (silence["startsAt"], moved[0]["startsAt"])
    ]
    assert dt.datetime.fromisoformat(str(latest["startsAt"]).replace("Z", "+00:00")) > later
    bad = dict(form, cis="no-such-ci", csrf=token)
    assert client.post("/console/changes", data=bad).status_code == 400


def test_windows_of_recurring_changes() -> None:
    from alertrouter.console.changes import covers, window_at
    from alertrouter.console.models import Change

    start = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)  # Monday 02:00 in Shanghai
    weekly = Change(
        title="weekly patching",
        cis=["his-db-1"],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        recurrence="weekly",
        until=start + dt.timedelta(days=14),
        status="planned",
    )
    assert covers(weekly, "his-db-1", start + dt.timedelta(days=7, hours=1))
    assert not covers(weekly, "his-db-1", start + dt.timedelta(days=7, hours=3))
    assert not covers(weekly, "his-web", start + dt.timedelta(hours=1))
    assert not covers(weekly, "his-db-1", start + dt.timedelta(days=21, hours=1))  # after `until`
    assert not covers(weekly, "his-db-1", start - dt.timedelta(days=7))
    assert window_at(weekly, start + dt.timedelta(days=8)) == (
        start + dt.timedelta(days=14),
        start + dt.timedelta(days=14, hours=2),
    )
    assert window_at(weekly, start + dt.timedelta(days=15)) is None
    once = Change(
        title="x",
        cis=["a"],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        recurrence="none",
        status="planned",
    )
    assert window_at(once, start) == (start, start + dt.timedelta(hours=1))
    assert window_at(once, start + dt.timedelta(hours=2)) is None

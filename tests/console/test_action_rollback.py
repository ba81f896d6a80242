"""A refused incident action keeps nothing: no timeline entry, no audit row, no status change, no page.

Two engineers on one incident at 03:10, one of them on a page loaded before the other acted; and an action
whose step after its first writes fails. Console and JSON API alike, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.console.models import AuditEntry
from alertrouter.context import Router, load_router
from alertrouter.errors import ApiError
from alertrouter.models import Event, Incident, Notification
from alertrouter.policy.rota import RotaChange
from demo.servers.process import free_port
from tests.console.conftest import csrf_of, incident_id, login, seed
from tests.router.conftest import API_TOKEN, auth
from tests.router.payloads import alert

NIGHT = dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)  # Wednesday 03:00 in Shanghai
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def router(database_url: str, write_config: Callable[..., Path]) -> Router:
    """A router that mails every priority, so a page an action queues is a row in the outbox."""
    # Nothing is sent in these tests (the worker is off): the relay's port only has to be a valid one.
    smtp = {"host": "127.0.0.1", "port": free_port(), "sender": "router@hospital.example", "security": "none"}
    return load_router(
        write_config(database_url, channels=[{"name": "email", "kind": "email", "smtp": smtp}])
    )


def _at(app: Flask, moment: dt.datetime) -> None:
    app.extensions["hospmon_router"].now = lambda: moment


def _engineer(app: Flask, username: str, **headers: str) -> tuple[FlaskClient, str]:
    """Return a browser of its own for one engineer, logged in, and its CSRF token."""
    browser = app.test_client()
    assert login(browser, username, **headers) == 303
    return browser, csrf_of(browser.get("/console/settings", headers=headers).text)


def _store(app: Flask, *incidents: int) -> dict[str, Any]:
    """Return what a refused action must leave as it was: the incidents, their timelines, audit log, pages."""
    with app.extensions["hospmon_router"].sessions() as session:
        rows = session.execute(select(Incident).where(Incident.id.in_(incidents)).order_by(Incident.id))
        return {
            "incidents": [(i.status, i.team, i.assignee, i.parent_id) for i in rows.scalars()],
            "timeline": session.execute(
                select(Event.incident_id, Event.kind, Event.actor).order_by(Event.id)
            ).all(),
            "audit": session.execute(
                select(AuditEntry.action, AuditEntry.actor).order_by(AuditEntry.id)
            ).all(),
            "pages": session.execute(select(func.count()).select_from(Notification)).scalar(),
        }


def test_stale_page_merge_after_resolve_is_refused_in_the_engineers_language(
    app: Flask, client: FlaskClient, users: object
) -> None:
    """03:00 core switch 1 stops answering and the HIS answers slowly. At 03:10 Wang Lei resolves the HIS
    incident (a stuck session pool, restarted). A second later Zhao Min, on the page she loaded at 03:05,
    merges it under the core switch's incident: she is told in Chinese that it is resolved, and the HIS
    incident's timeline, the audit log and the pages show only Wang Lei's resolve."""
    _at(app, NIGHT)
    seed(client, alert("core-sw-1", NIGHT, name="CIProbeFailed"))
    seed(client, alert("his-web", NIGHT, name="HISResponseSlow", severity="warning"))
    core, his = incident_id(client, "core-sw-1"), incident_id(client, "his-web")
    wang, wang_csrf = _engineer(app, "wang.lei")
    zhao, zhao_csrf = _engineer(app, "zhao.min", **ZH)
    _at(app, NIGHT + dt.timedelta(minutes=5))
    assert 'id="merge"' in zhao.get(f"/console/incidents/{his}", headers=ZH).text  # her page: still open
    _at(app, NIGHT + dt.timedelta(minutes=10))
    fix = {"csrf": wang_csrf, "cause": "software", "fix": "session pool restarted", "minutes": "10"}
    assert wang.post(f"/console/incidents/{his}/resolve", data=fix).status_code == 303
    resolved = _store(app, core, his)
    _at(app, NIGHT + dt.timedelta(minutes=10, seconds=1))
    late = zhao.post(
        f"/console/incidents/{his}/merge", data={"csrf": zhao_csrf, "into": str(core)}, headers=ZH
    )
    assert late.status_code == 409 and f"事件 {his} 当前为已解决；只能归并未关闭的事件" in late.text
    assert _store(app, core, his) == resolved
    # The same from the API (the token's actor is wang.lei): the same refusal, nothing kept.
    api = client.post(f"/api/v1/incidents/{his}/merge", json={"into": core}, headers=auth(API_TOKEN))
    assert api.status_code == 409 and "is resolved" in api.json["error"]["reason"]
    after = _store(app, core, his)
    assert after == resolved and after["incidents"][1][0] == "resolved"
    assert [a for a in after["audit"] if a[0] not in ("login",)] == [("resolve", "wang.lei")]
    assert [e[1] for e in after["timeline"] if e[0] == his][-1] == "resolved"


def _reassign(browser: FlaskClient, csrf: str, via: str) -> tuple[int, str]:
    """Hand the UPS incident to Zhao Min of the network team as Wang Lei; return the status and the reason."""
    body = {"team": "network", "to": "zhao.min"}
    if via == "api":  # the token's actor is wang.lei
        resp = browser.post("/api/v1/incidents/1/reassign", json=body, headers=auth(API_TOKEN))
        return resp.status_code, resp.json["error"]["reason"] if resp.status_code >= 400 else ""
    resp = browser.post("/console/incidents/1/reassign", data={"csrf": csrf, **body})
    return resp.status_code, resp.text


@pytest.mark.parametrize("via", ["console", "api"])
def test_a_step_failing_after_the_first_writes_keeps_none_of_them(
    app: Flask, client: FlaskClient, users: object, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    """03:10 Wang Lei hands the machine room UPS alarm from infra to Zhao Min of the network team (he
    suspects the switch that reports it); the reassign writes its timeline entry, the new owner and a page
    to her, then the step after it (the audit row) fails. He sees why, and the store is as before: still
    infra's, no entry, nobody paged, nothing audited."""
    _at(app, NIGHT)
    seed(client, alert("ups-mr1-01", NIGHT, name="UPSAlarm", severity="warning"))
    assert incident_id(client, "ups-mr1-01") == 1
    _at(app, NIGHT + dt.timedelta(minutes=10))
    wang, csrf = _engineer(app, "wang.lei")
    before = _store(app, 1)
    assert before["incidents"][0][1] == "infra"

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise ApiError(409, "the audit log refused the entry")

    monkeypatch.setattr("alertrouter.console.audit.audit", refuse)
    monkeypatch.setattr("alertrouter.api.views.audit", refuse)
    status, reason = _reassign(wang, csrf, via)
    assert status == 409 and "the audit log refused the entry" in reason
    assert _store(app, 1) == before
    monkeypatch.undo()
    # The same reassign once the audit log takes it again: done, audited and Zhao Min paged.
    assert _reassign(wang, csrf, via)[0] in (200, 303)
    done = _store(app, 1)
    assert done["incidents"][0][1:3] == ("network", "zhao.min") and done["pages"] > before["pages"]
    assert done["audit"][-1] == ("reassign", "wang.lei")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lead_cancelling_another_teams_cover_keeps_it(app: Flask, users: object) -> None:
    """The admin has Liu Yang cover infra's Wednesday night. Wang Lei, the network lead, on his own team's
    plan, posts the cancel of that cover (its number from another tab): the cancel writes first, then the
    team check refuses it. Infra's cover holds, and nothing about it is audited."""
    _at(app, NIGHT - dt.timedelta(days=1))
    admin, admin_csrf = _engineer(app, "admin")
    night = {"start": "2026-12-02T20:00", "end": "2026-12-03T08:30", "person": "liu.yang", "reason": "cover"}
    assert admin.post("/console/oncall/infra/override", data={"csrf": admin_csrf, **night}).status_code == 303
    wang, csrf = _engineer(app, "wang.lei")
    with app.extensions["hospmon_router"].sessions() as session:
        cover = session.execute(select(RotaChange.id).where(RotaChange.team == "infra")).scalar_one()
    resp = wang.post("/console/oncall/network/cancel", data={"csrf": csrf, "change": str(cover)})
    assert resp.status_code == 403
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.get(RotaChange, cover).cancelled_at is None  # type: ignore[union-attr]
        audited = session.execute(select(AuditEntry.action)).scalars().all()
    assert "oncall_cancel" not in audited and "oncall_override" in audited

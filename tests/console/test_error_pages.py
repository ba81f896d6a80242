"""Every console error is a console page in the reader's language; the JSON API keeps answering JSON.

The night shift's faults: PostgreSQL restarting at 03:00 under an acknowledge, a form left open through a
long shift, an incident number mistyped, an address used the wrong way."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from alertrouter.console.models import AuditEntry
from alertrouter.links import Action, make_links
from alertrouter.models import Event, Incident
from tests.console.conftest import csrf_of, incident_id, login, seed
from tests.router.conftest import API_TOKEN, auth
from tests.router.outage import Outage
from tests.router.payloads import alert

NIGHT = dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)  # Wednesday 03:00 in Shanghai
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _console_page(resp: Any, status: int, lang: str) -> str:
    """Check a response is the console's error page (its layout, phone-width, a way back); return its text."""
    assert resp.status_code == status, resp.text[:300]
    assert resp.mimetype == "text/html", resp.text[:300]
    text: str = resp.text
    assert f'<html lang="{lang}">' in text and 'name="viewport"' in text and 'id="error"' in text
    assert "Traceback" not in text and '"error":' not in text
    return text


def _engineer(app: Flask, **headers: str) -> tuple[FlaskClient, str]:
    browser = app.test_client()
    assert login(browser, "wang.lei", **headers) == 303
    return browser, csrf_of(browser.get("/console/settings", headers=headers).text)


def _kept(app: Flask, inc: int) -> tuple[str, list[str], list[str]]:
    """Return the incident's status, its timeline kinds and the audit log's actions."""
    with app.extensions["hospmon_router"].sessions() as session:
        status = session.execute(select(Incident.status).where(Incident.id == inc)).scalar_one()
        kinds = session.execute(select(Event.kind).where(Event.incident_id == inc)).scalars().all()
        acts = session.execute(select(AuditEntry.action)).scalars().all()
        return status, list(kinds), list(acts)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_store_down_at_3am_acknowledge_is_a_chinese_503_page_then_works(
    app: Flask, client: FlaskClient, users: object, database_url: str, request: pytest.FixtureRequest
) -> None:
    """03:00 the LIS database stops answering; Wang Lei (console in Chinese) acknowledges just as
    PostgreSQL restarts. He is told in Chinese that the store is not answering and his acknowledge was not
    saved (503, Retry-After); nothing is half-written. The API says the same in JSON. A minute later, with
    the store back, the same acknowledge works. Earlier, a note with a NUL PostgreSQL refuses was a 400
    page, not JSON."""
    app.extensions["hospmon_router"].now = lambda: NIGHT
    seed(client, alert("lis-db", NIGHT))
    inc = incident_id(client, "lis-db")
    wang, csrf = _engineer(app, **ZH)
    state = app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        url = make_links(
            state.router, inc, "wang.lei", "mail", (Action.acknowledge,), session=session, now=NIGHT
        )
    phone, code = app.test_client(), url[Action.acknowledge].rsplit("/", 1)[1]
    link_csrf = csrf_of(phone.get(f"/a/{code}", headers=ZH).text)
    # A value PostgreSQL refuses (a NUL pasted from a device's console) is his to fix: 400, nothing kept.
    nul = wang.post(f"/console/incidents/{inc}/note", data={"csrf": csrf, "text": "UPS\x00"}, headers=ZH)
    assert "事件库拒绝了您填写的某个值" in _console_page(nul, 400, "zh-CN")
    before = _kept(app, inc)
    with Outage(database_url, request.getfixturevalue("postgres")):
        resp = wang.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": csrf}, headers=ZH)
        text = _console_page(resp, 503, "zh-CN")
        assert "事件库暂时无响应，您的操作未保存。请一分钟后重试。" in text
        assert resp.headers["Retry-After"] == "60"
        # The same from the link in his page, on his phone: back leads to the link, not to a login.
        resp = phone.post(f"/a/{code}", data={"csrf": link_csrf}, headers=ZH)
        assert "事件库暂时无响应" in _console_page(resp, 503, "zh-CN") and f'href="/a/{code}"' in resp.text
        # A ward nurse's status page: the same sentence, and back to the status page.
        ward = client.get("/status?lang=zh")
        assert "事件库暂时无响应" in _console_page(ward, 503, "zh-CN") and 'href="/status"' in ward.text
        api = client.post(f"/api/v1/incidents/{inc}/acknowledge", json={}, headers=auth(API_TOKEN))
        assert api.status_code == 503 and api.json["error"]["status"] == 503
    # The pool's connections died with the outage; the first request after it may still meet one.
    for _attempt in range(3):
        again = wang.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": csrf}, headers=ZH)
        if again.status_code != 503:
            break
    assert before[0] == "triggered" and "acknowledged" not in before[1] and "note" not in before[1]
    assert again.status_code == 303, again.text[:300]
    status, kinds, acts = _kept(app, inc)
    assert status == "acknowledged" and kinds.count("acknowledged") == 1 and acts.count("acknowledge") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_form_left_open_all_night_says_so_in_chinese_and_keeps_the_note(
    app: Flask, client: FlaskClient, users: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wang Lei opened the UPS incident at 19:00 and types his note at 08:00, 13 hours later: the page
    says in Chinese that it was open too long and nothing was saved, shows his note to copy, and links back
    to the board. The note is not stored."""
    seed(client, alert("ups-mr1-01", NIGHT, name="UPSAlarm", severity="warning"))
    inc = incident_id(client, "ups-mr1-01")
    evening = time.time() - 13 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(evening))
    wang, stale = _engineer(app, **ZH)
    monkeypatch.undo()
    note = "UPS 旁路已切换，等厂家上午来换电池"
    resp = wang.post(f"/console/incidents/{inc}/note", data={"csrf": stale, "text": note}, headers=ZH)
    text = _console_page(resp, 403, "zh-CN")
    assert "页面打开时间过长，表单已过期，您的操作未保存。请刷新页面后重新操作。" in text
    assert f">{note}</textarea>" in text and 'href="/console/"' in text
    assert "note" not in _kept(app, inc)[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mistyped_incident_or_misused_address_is_an_english_page_and_the_api_keeps_json(
    app: Flask, client: FlaskClient, users: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engineer types incident 9999 (no such incident), a letter for its number, and opens an action's
    address in the browser: each is the console's page in English, with a way back to the board; so is a
    bug. The JSON API answers the same faults in JSON."""
    wang, _csrf = _engineer(app, **EN)
    for url, status in (
        ("/console/incidents/9999", 404),
        ("/console/incidents/12a", 404),
        ("/console/incidents/9999/acknowledge", 405),
    ):
        text = _console_page(wang.get(url, headers=EN), status, "en")
        assert "/console/" in text, url
    assert "There is nothing at this address" in wang.get("/console/incidents/12a", headers=EN).text
    # A bug (here: the history lookup failing) is a 500 page naming the request id, never a traceback.
    monkeypatch.setattr("alertrouter.console.views_incidents.earlier", lambda *a, **k: 1 / 0)
    seed(client, alert("his-web", NIGHT, name="HISResponseSlow", severity="warning"))
    bug = wang.get(f"/console/incidents/{incident_id(client, 'his-web')}", headers=EN)
    assert f"tell the monitoring team request {bug.headers['X-Request-Id']}." in _console_page(bug, 500, "en")
    for url, status in (("/api/v1/incidents/9999", 404), ("/api/v1/incidents/12a", 404)):
        api = client.get(url, headers=auth(API_TOKEN))
        assert api.status_code == status and api.json["error"]["status"] == status, url
    api = client.get("/api/v1/incidents/9999/acknowledge", headers=auth(API_TOKEN))
    assert api.status_code == 405 and api.json["error"]["status"] == 405

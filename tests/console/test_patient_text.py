"""What staff type stays free of patients: notes, fixes, reasons and articles pass the router's PHI guard.

A night engineer's real note (a ticket, an address, a port, a version, an OID, Chinese technical words) is
kept and shown; a ward nurse's message pasted into a note, with a patient's name, record number and mobile,
is refused: the form comes back in the reader's language with everything typed still in it, and the store,
the audit log, the outbox and the log hold no trace of the patient.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from alertrouter.console.models import Article, AuditEntry, Problem
from alertrouter.links import Action, make_links
from alertrouter.models import Event, Incident
from tests.canary import CANARY, leaks
from tests.console.conftest import csrf_of, incident_id, seed
from tests.router.conftest import API_TOKEN, auth
from tests.router.payloads import alert

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

NIGHT = dt.datetime(2026, 12, 1, 19, 10, tzinfo=dt.UTC)  # Wednesday 03:10 in Shanghai
FIX = "core switch fan replaced, see SR 2026-1187, 10.20.1.1 port 24"
TECH_NOTE = (
    "核心交换机风扇已更换，见工单 SR 2026-1187；HIS 数据库 2026-12-07 03:15:22 主备切换完成，"
    "版本 V200R019C10SPC800，序列号 2102351234567890，资产号 ZC-2024-00123，"
    "OID 1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5，10.20.1.1:8080 正常，患者排队 30 分钟后恢复"
)
NURSE = "5病区护士站留言：患者张三 MRN00012345 13800138000，叫号屏黑屏"
PLANTED = ("张三", "MRN00012345", "13800138000", "00012345", "38001380")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _store(app: Flask) -> str:
    """Every row of every table of the router's store, as text (JSON's \\u escapes decoded too)."""
    state = app.extensions["hospmon_router"]
    with state.sessions() as session:
        meta = MetaData()
        meta.reflect(bind=session.connection())
        rows = [repr(row) for table in meta.sorted_tables for row in session.execute(select(table))]
    text = "\n".join(rows)
    return text + "\n" + text.encode().decode("unicode_escape", errors="ignore")


def _traces(text: str) -> list[str]:
    """Return the planted patient fragments found in `text`."""
    return [p for p in PLANTED if p in text] + leaks(text)


def _night_incident(client: FlaskClient, app: Flask) -> int:
    app.extensions["hospmon_router"].now = lambda: NIGHT
    seed(client, alert("core-sw-1", NIGHT))
    return incident_id(client, "core-sw-1")


def test_night_engineer_resolves_with_ticket_address_and_port(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    """03:10 the core switch's fan fails; Wang Lei replaces it, resolves with the SR number, the address and
    the port, and adds a Chinese note with the version, serial, asset number and OID: all kept and shown."""
    inc = _night_incident(client, app)
    token = as_user("wang.lei")
    for text in (TECH_NOTE, "Zhao Min (DBA on call) confirmed the standby HIS database took over"):
        noted = client.post(f"/console/incidents/{inc}/note", data={"csrf": token, "text": text})
        assert noted.status_code == 303, text
    data = {"csrf": token, "cause": "hardware", "fix": FIX, "minutes": "40", "to_kb": "1"}
    assert client.post(f"/console/incidents/{inc}/resolve", data=data).status_code == 303
    page = html.unescape(client.get(f"/console/incidents/{inc}").text)
    assert FIX in page.split('id="resolution"')[1] and TECH_NOTE in page.split('id="timeline"')[1]
    assert "field-error" not in page
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.get(Incident, inc).status == "resolved"  # type: ignore[union-attr]
        assert FIX in session.execute(select(Article.body)).scalar_one()


def test_nurse_message_pasted_into_a_note_is_refused_and_kept_in_the_form(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    """The ward nurse's message about the queue screen is pasted whole into a note, the patient with it: the
    page says, in Chinese, that it holds a patient's name, keeps the text to edit, and stores nothing."""
    inc = _night_incident(client, app)
    token = as_user("wang.lei")
    before = _store(app)
    with caplog.at_level(logging.DEBUG):
        refused = client.post(
            f"/console/incidents/{inc}/note", data={"csrf": token, "text": NURSE}, headers=ZH
        )
        resolve = {"csrf": token, "cause": "hardware", "fix": f"重启叫号屏；{NURSE}", "minutes": "25"}
        refused_fix = client.post(f"/console/incidents/{inc}/resolve", data=resolve, headers=ZH)
    assert refused.status_code == 400 and refused_fix.status_code == 400
    page = html.unescape(refused.text)
    assert "这像是患者姓名。" in page.split('id="text-error"')[1] and "不要写患者信息" in page
    assert f'value="{NURSE}"' in page  # the note is kept in its field, to take the patient out and send again
    fix_page = html.unescape(refused_fix.text)
    assert f">重启叫号屏；{NURSE}</textarea>" in fix_page and 'id="fix-error"' in fix_page
    assert '<option value="hardware" selected>' in fix_page and 'value="25"' in fix_page
    assert _store(app) == before, "a refused text changed the store"
    assert not _traces(_store(app))
    assert not _traces("\n".join(r.getMessage() for r in caplog.records))
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.get(Incident, inc).status == "triggered"  # type: ignore[union-attr]
        assert not session.execute(select(AuditEntry).where(AuditEntry.action.in_(("note", "resolve")))).all()


def test_the_same_through_the_json_api(client: FlaskClient, app: Flask) -> None:
    """An integration posts the ward's message as a note, a resolve note and a reopen reason: each is 400
    with the field and the shape found, never the value; the incident stays open and nobody is paged."""
    inc = _night_incident(client, app)
    api = auth(API_TOKEN)
    pasted = f"患者{CANARY.name} {CANARY.mrn} {CANARY.phone}"
    before = _store(app)
    note = client.post(f"/api/v1/incidents/{inc}/notes", json={"text": pasted}, headers=api)
    assert note.status_code == 400
    assert note.json["error"]["reason"].startswith("text: looks like a patient's name (han_name)")
    phone_only = client.post(f"/api/v1/incidents/{inc}/resolve", json={"note": CANARY.phone}, headers=api)
    assert phone_only.status_code == 400
    assert phone_only.json["error"]["reason"].startswith("note: looks like a mobile number")
    assert not _traces(note.text + phone_only.text)
    assert _store(app) == before and not _traces(_store(app))
    ok = client.post(f"/api/v1/incidents/{inc}/resolve", json={"note": FIX}, headers=api)
    assert ok.status_code == 200 and ok.json["status"] == "resolved"
    reopen = client.post(f"/api/v1/incidents/{inc}/reopen", json={"note": f"ward: {CANARY.mrn}"}, headers=api)
    assert reopen.status_code == 400 and reopen.json["error"]["reason"].startswith(
        "note: looks like a medical"
    )
    with app.extensions["hospmon_router"].sessions() as session:
        kinds = session.execute(select(Event.kind).where(Event.incident_id == inc)).scalars().all()
        assert "reopened" not in kinds and "note" not in kinds
    assert not _traces(_store(app))


def test_knowledge_entry_with_a_patient_is_refused_then_written_without(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    """Zhao Min writes up how the queue screen was fixed, with the patient's visit number from the ward's
    message: refused in English, title and text kept; written again without it, it is saved."""
    token = as_user("zhao.min")
    body = f"叫号屏黑屏：重启 10.20.3.15 的叫号服务。病区反馈 {CANARY.visit}"
    form = {"csrf": token, "title": "叫号屏黑屏处理", "ci": "", "alertname": "", "body": body}
    refused = client.post("/console/kb/new", data=form, headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    page = html.unescape(refused.text)
    assert "This looks like a medical record, visit, accession or sample number." in page
    assert 'id="body-error"' in page and f">{body}</textarea>" in page and 'value="叫号屏黑屏处理"' in page
    assert not _traces(_store(app))
    form["body"] = "叫号屏黑屏：重启 10.20.3.15 的叫号服务（端口 8080），版本 2.3.1"
    assert client.post("/console/kb/new", data=form).status_code == 303
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.execute(select(Article.body)).scalar_one() == form["body"]


def test_reasons_and_records_are_guarded_too(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    """An on-call override's reason, a change window's description and a problem's root cause name a patient:
    each refused with the form kept, nothing stored."""
    token = as_user("admin")
    app.extensions["hospmon_router"].now = lambda: NIGHT
    override = {
        "csrf": token, "person": "zhao.min", "start": "2026-12-02T08:00", "end": "2026-12-02T20:00",
        "reason": f"陪护 {CANARY.name_latin} 复诊", "view": "week",
    }  # fmt: skip
    refused = client.post("/console/oncall/network/override", data=override)
    assert refused.status_code == 400
    page = html.unescape(refused.text)
    assert 'id="override-reason" maxlength="500" value="陪护' in page and 'value="2026-12-02T08:00"' in page
    change = {
        "csrf": token, "kind": "change", "title": "Core switch firmware", "cis": "core-sw-1",
        "starts": "2026-12-03T01:00", "ends": "2026-12-03T02:00", "recurrence": "none",
        "description": f"病人 {CANARY.resident_id} 投诉后升级",
    }  # fmt: skip
    refused_change = client.post("/console/changes", data=change)
    assert refused_change.status_code == 400
    assert 'id="description-error"' in refused_change.text and "Core switch firmware" in refused_change.text
    with app.extensions["hospmon_router"].sessions() as session, session.begin():
        problem = Problem(
            ci="qm-kiosk-1", alertname="KioskDown", status="open", first_seen=NIGHT, last_seen=NIGHT,
            created_at=NIGHT,
        )  # fmt: skip
        session.add(problem)
    root = {
        "csrf": token,
        "status": "known_error",
        "root_cause": f"打印机卡纸，家属电话 {CANARY.phone_dashed}",
    }
    refused_root = client.post(f"/console/problems/{problem.id}", data=root)
    assert refused_root.status_code == 400 and 'id="root_cause-error"' in refused_root.text
    assert '<option value="known_error" selected>' in refused_root.text
    assert not _traces(_store(app))


def test_a_patient_in_the_phone_resolve_link_leaves_the_link_usable(client: FlaskClient, app: Flask) -> None:
    """At 03:40 Wang Lei resolves from the link in his page, on his phone, and pastes the nurse's message as
    the fix: refused with his text kept, the link still unused; without the patient, it resolves."""
    inc = _night_incident(client, app)
    state = app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        url = make_links(
            state.router, inc, "wang.lei", "email", (Action.resolve,), session=session, now=NIGHT
        )[Action.resolve]
    path = "/a/" + url.rsplit("/a/", 1)[1]
    token = csrf_of(client.get(path).text)
    refused = client.post(path, data={"csrf": token, "cause": "hardware", "fix": NURSE}, headers=ZH)
    assert refused.status_code == 400
    page = html.unescape(refused.text)
    assert f">{NURSE}</textarea>" in page and "这像是患者姓名。" in page.split('id="fix-error"')[1]
    assert not _traces(_store(app))
    done = client.post(path, data={"csrf": token, "cause": "hardware", "fix": "叫号屏电源适配器已更换"})
    assert done.status_code == 303
    with state.sessions() as session:
        assert session.get(Incident, inc).status == "resolved"  # type: ignore[union-attr]

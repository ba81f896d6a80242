"""Pages across an incident's life: a child released by its resolved root, a page overtaken by a resolve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from alertrouter.context import Router
from alertrouter.models import Event, Incident, Notification
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.worker.run import Worker
from tests.router.conftest import Clock, auth, events
from tests.router.payloads import alert, iso, webhook
from tests.router.smtp import SmtpServer

NIGHT = dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)  # Tuesday 03:00 in Shanghai; li.qiang on call
MINUTE = dt.timedelta(minutes=1)
SETTLE = dt.timedelta(seconds=20)  # the shipped policy's storms.settle_seconds: an access switch's first page
GRACE = dt.timedelta(seconds=90)  # storms.release_grace_seconds: a released child's first page


def _post(app: Flask, *alerts: dict[str, Any]) -> None:
    resp = app.test_client().post("/webhook/alertmanager", json=webhook(*alerts), headers=auth())
    assert resp.status_code == 200, resp.json


def _incident(app: Flask, ci: str) -> Incident:
    with app.extensions["hospmon_router"].sessions() as session:
        inc: Incident = session.execute(select(Incident).where(Incident.ci == ci)).scalar_one()
        return inc


def _relay(calls: list[str], *, refuse: int) -> Callable[..., None]:
    """Return a mail relay that answers "451 try again later" to the `refuse`-th message, noting each."""

    def relay(*args: Any) -> None:
        calls.append(args[2])
        if len(calls) == refuse:
            raise DeliveryError("451 4.3.2 try again later")
        send(*args)

    return relay


def _kinds(app: Flask, incident_id: int) -> list[tuple[str, str]]:
    with app.extensions["hospmon_router"].sessions() as session:
        rows = session.execute(
            select(Event.kind, Event.text).where(Event.incident_id == incident_id).order_by(Event.id)
        )
        return [(r.kind, r.text) for r in rows if r.kind in ("paged", "escalated", "released")]


def test_icu_switch_still_down_after_its_building_switch_recovers_pages_the_on_call_again(
    mail_app: Flask, mail_router: Router, smtp: SmtpServer
) -> None:
    """03:00 the ICU floor switch stops answering, 03:01 the inpatient building's aggregation switch too.

    The building switch is the root cause: the ICU switch's incident joins it. At 03:20 the building switch
    is back but the ICU floor switch still is not. Its incident is a fault of its own again: the network
    on-call is paged for it (step 1) once the release grace has passed with the switch still down, and the
    lead only 15 minutes after that if nobody acknowledges.
    """
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(NIGHT)
    state.now = clock
    worker = Worker(mail_router, state.sessions, now=clock)
    icu = alert("acc-sw-icu-5f", NIGHT, name="CIProbeFailed")
    _post(mail_app, icu)
    worker.run_once()  # held: the building switch above may be what failed
    clock.at = NIGHT + SETTLE
    worker.run_once()
    child = _incident(mail_app, "acc-sw-icu-5f")
    [first] = smtp.mailbox.messages
    on_call = "li.qiang@hospital.example"
    assert first["To"] == on_call
    clock.at = NIGHT + MINUTE
    building = alert("agg-sw-inpatient", clock.at, name="CIProbeFailed")
    _post(mail_app, building)
    worker.run_once()
    assert _incident(mail_app, "acc-sw-icu-5f").parent_id == _incident(mail_app, "agg-sw-inpatient").id

    clock.at = NIGHT + 20 * MINUTE
    _post(mail_app, {**building, "status": "resolved", "endsAt": iso(clock.at)})
    worker.run_once()
    assert len([m for m in smtp.mailbox.messages if f"#{child.id} " in m["Subject"]]) == 1, "in the grace"
    clock.at = NIGHT + 20 * MINUTE + GRACE
    worker.run_once()
    paged = [m for m in smtp.mailbox.messages if f"#{child.id} " in m["Subject"]]
    assert [m["To"] for m in paged] == [on_call, on_call], "the on-call is paged again on release"
    assert "step 1 of 3" in _kinds(mail_app, child.id)[-1][1]

    clock.at += MINUTE
    worker.run_once()
    assert [k for k, _ in _kinds(mail_app, child.id)] == ["paged", "released", "paged"], (
        "no escalation to the lead one minute after the release"
    )
    clock.at = NIGHT + 36 * MINUTE + GRACE  # 16 minutes after that page, nobody acknowledged
    worker.run_once()
    kind, text = _kinds(mail_app, child.id)[-1]
    assert kind == "escalated" and "wang.lei" in text and "step 2 of 3" in text
    with state.sessions() as session:
        leads = session.execute(
            select(Notification.recipient).where(
                Notification.incident_id == child.id, Notification.recipient == "wang.lei@hospital.example"
            )
        ).all()
    assert len(leads) == 1


def test_page_held_up_by_the_mail_relay_is_not_sent_after_the_switch_is_back(
    mail_app: Flask, mail_router: Router, smtp: SmtpServer
) -> None:
    """03:00 the ICU floor switch stops answering; its page is due at 03:00:20 (the settle hold), when the
    mail relay answers "451 try later", so the page waits for its retry. At 03:00:25 the switch answers again
    and the alert resolves. The retry at 03:00:31 must not wake the on-call for a fault that is gone, as if it
    were live: it is cancelled, and the timeline says which page was held back and why."""
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(NIGHT)
    state.now = clock
    calls: list[str] = []
    worker = Worker(mail_router, state.sessions, now=clock, sender=_relay(calls, refuse=1))
    icu = alert("acc-sw-icu-5f", NIGHT, name="CIProbeFailed")
    _post(mail_app, icu)
    worker.run_once()
    clock.at = NIGHT + SETTLE
    worker.run_once()
    assert calls == ["li.qiang@hospital.example"] and smtp.mailbox.messages == []
    clock.at = NIGHT + SETTLE + dt.timedelta(seconds=5)
    _post(mail_app, {**icu, "status": "resolved", "endsAt": iso(clock.at)})
    clock.at = NIGHT + SETTLE + dt.timedelta(seconds=11)
    worker.run_once()
    assert smtp.mailbox.messages == [] and len(calls) == 1
    [held] = events(mail_app, "notification_cancelled")
    assert "li.qiang@hospital.example" in held and "resolved" in held
    with state.sessions() as session:
        assert session.execute(select(Notification.status)).scalar_one() == "cancelled"


def test_floor_switches_still_down_after_the_building_switch_are_paged_in_one_message(
    mail_app: Flask, mail_router: Router, smtp: SmtpServer
) -> None:
    """03:00 the inpatient building's switch fails and the ICU, OR floor switches behind it with it; at 03:20
    it is back, the floor switches are not. Past the grace the on-call gets one e-mail listing both, and the
    lead 15 minutes later one more. While the relay refuses, the ICU switch recovers: the e-mail still goes,
    because the OR switch it lists still fails."""
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(NIGHT)
    state.now = clock
    calls: list[str] = []
    # The relay refuses the first message about the floor switches.
    worker = Worker(mail_router, state.sessions, now=clock, sender=_relay(calls, refuse=2))
    building = alert("agg-sw-inpatient", NIGHT, name="CIProbeFailed")
    floors = [alert(ci, NIGHT + MINUTE, name="CIProbeFailed") for ci in ("acc-sw-icu-5f", "acc-sw-or-3f")]
    _post(mail_app, building)
    _post(mail_app, *floors)
    clock.at = NIGHT + SETTLE
    worker.run_once()
    assert len(smtp.mailbox.messages) == 1  # the building switch; the floor switches are its children
    clock.at = NIGHT + 20 * MINUTE
    _post(mail_app, {**building, "status": "resolved", "endsAt": iso(clock.at)})
    worker.run_once()
    clock.at += GRACE
    worker.run_once()
    assert calls[1:] == ["li.qiang@hospital.example"] and len(smtp.mailbox.messages) == 1
    _post(mail_app, {**floors[0], "status": "resolved", "endsAt": iso(clock.at)})
    clock.at += dt.timedelta(seconds=10)
    worker.run_once()
    [_, listing] = smtp.mailbox.messages
    assert "2 CIs still failing after agg-sw-inpatient" in listing["Subject"]
    assert "acc-sw-icu-5f" in listing["Subject"] and "acc-sw-or-3f" in listing["Subject"]
    clock.at = NIGHT + 20 * MINUTE + GRACE + 15 * MINUTE
    worker.run_once()
    [lead] = smtp.mailbox.messages[2:]
    assert lead["To"] == "wang.lei@hospital.example" and "acc-sw-or-3f" in lead["Subject"]
    assert "acc-sw-icu-5f" not in lead["Subject"]  # it recovered: only the OR switch escalates

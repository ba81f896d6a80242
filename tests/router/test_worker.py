"""The worker: paging and escalation with ack timeouts, email to a real SMTP server, retries, replicas."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.context import Router, load_router
from alertrouter.models import Incident, Notification
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.worker.run import Worker
from tests.router.conftest import API_TOKEN, T0, Clock, auth, dba_gap_policy, events, js, plain
from tests.router.payloads import alert, webhook
from tests.router.smtp import SmtpServer


def test_page_email_escalate_and_ack(mail_app: Flask, mail_router: Router, smtp: SmtpServer) -> None:
    client = mail_app.test_client()
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(T0)
    worker = Worker(mail_router, state.sessions, now=clock)
    state.now = clock
    assert (
        client.post("/webhook/alertmanager", json=webhook(alert("his-db", T0)), headers=auth()).status_code
        == 200
    )
    worker.run_once()
    [msg] = smtp.mailbox.messages
    assert msg["To"] == "huang.li@hospital.example"
    assert msg["Subject"].startswith("[P1] #")
    assert "Why this priority: P1: Emergency Department depends on his-db" in plain(msg)
    assert events(mail_app, "paged") and events(mail_app, "notification_sent")
    clock.at = T0 + dt.timedelta(minutes=11)  # apps escalate to the lead after 10 minutes
    worker.run_once()
    assert len(smtp.mailbox.messages) == 2
    assert smtp.mailbox.messages[1]["To"] == "huang.li@hospital.example"
    assert "escalated huang.li" in events(mail_app, "escalated")[0]
    [inc] = js(client.get("/api/v1/incidents", headers=auth(API_TOKEN)))["incidents"]
    assert (
        client.post(f"/api/v1/incidents/{inc['id']}/acknowledge", headers=auth(API_TOKEN)).status_code == 200
    )
    clock.at = T0 + dt.timedelta(minutes=31)
    worker.run_once()
    assert len(smtp.mailbox.messages) == 2


def test_failed_delivery_is_recorded_and_retried(
    mail_app: Flask, mail_router: Router, smtp: SmtpServer
) -> None:
    client = mail_app.test_client()
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(dt.datetime.now(dt.UTC))
    calls: list[str] = []

    def flaky(*args: Any) -> None:
        calls.append(args[2])
        if len(calls) == 1:
            raise DeliveryError("SMTP relay said 451 try later")
        send(*args)

    worker = Worker(mail_router, state.sessions, now=clock, sender=flaky)
    state.now = clock
    client.post("/webhook/alertmanager", json=webhook(alert("lis-db", clock.at)), headers=auth())
    worker.run_once()
    assert smtp.mailbox.messages == []
    assert "failed via email" in events(mail_app, "notification_failed")[0]
    assert "451 try later" in events(mail_app, "notification_failed")[0]
    worker.run_once()  # not due yet
    assert len(calls) == 1
    clock.at += dt.timedelta(seconds=11)
    worker.run_once()
    assert len(smtp.mailbox.messages) == 1
    with state.sessions() as session:
        [note] = session.execute(select(Notification)).scalars().all()
    assert note.status == "sent" and note.attempts == 2
    metrics = client.get("/metrics").text
    assert 'hospmon_router_notification_failures_total{channel="email"} 1.0' in metrics


def test_two_workers_on_one_store_page_once(mail_app: Flask, mail_router: Router, smtp: SmtpServer) -> None:
    client = mail_app.test_client()
    state = mail_app.extensions["hospmon_router"]
    now = dt.datetime.now(dt.UTC)
    for ci in ("his-db", "lis-db", "emr-db", "backup-1", "ct-1"):
        client.post("/webhook/alertmanager", json=webhook(alert(ci, now)), headers=auth())
    other = create_app(mail_router)
    try:
        workers = [
            Worker(mail_router, app.extensions["hospmon_router"].sessions) for app in (mail_app, other)
        ]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(w: Worker) -> None:
            barrier.wait()
            try:
                w.run_once()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        workers[0].run_once()
    finally:
        other.extensions["hospmon_router"].engine.dispose()
    assert len(smtp.mailbox.messages) == 5
    with state.sessions() as session:
        steps = session.execute(select(Incident.escalation_step)).scalars().all()
    assert steps == [1] * 5


def test_gap_in_on_call_is_raised_ahead_and_cleared(
    database_url: str, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    policy = dba_gap_policy(tmp_path, now)
    router = load_router(write_config(database_url, policy=str(policy)))
    app = create_app(router)
    try:
        state = app.extensions["hospmon_router"]
        Worker(router, state.sessions).run_once()
        Worker(router, state.sessions).run_once()
        with state.sessions() as session:
            [inc] = session.execute(select(Incident)).scalars().all()
        assert inc.team == "dba" and inc.alertname == "OnCallGap" and inc.status == "triggered"
        assert inc.title.startswith("Nobody on call for Database Team from ")
        gap = app.test_client().get("/metrics").text
        assert 'hospmon_router_oncall_gap_timestamp_seconds{team="dba"} 0.0' not in gap
        assert 'hospmon_router_oncall_gap_timestamp_seconds{team="apps"} 0.0' in gap
        fixed = load_router(write_config(database_url))  # the override is removed from the policy
        Worker(fixed, state.sessions).run_once()
        with state.sessions() as session:
            assert session.execute(select(Incident.status)).scalar_one() == "resolved"
    finally:
        app.extensions["hospmon_router"].engine.dispose()


def test_priority_rises_when_clinics_open(mail_app: Flask, mail_router: Router) -> None:
    state = mail_app.extensions["hospmon_router"]
    evening = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)  # Monday 21:00 in Shanghai: billing closed
    clock = Clock(evening)
    state.now = clock
    body = webhook(alert("ins-fep", evening))
    assert mail_app.test_client().post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    worker = Worker(mail_router, state.sessions, now=clock)
    worker.run_once()
    with state.sessions() as session:
        assert session.execute(select(Incident.priority)).scalar_one() == "P3"
    clock.at = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # Tuesday 09:00: clinics and billing open
    worker.run_once()
    with state.sessions() as session:
        inc = session.execute(select(Incident)).scalar_one()
    assert inc.priority == "P2" and "09:00 on a working day" in inc.explanation
    assert "as time moved" in events(mail_app, "priority_changed")[0]
    with state.sessions() as session:
        subjects = session.execute(select(Notification.subject)).scalars().all()
    assert any(s.startswith("[P2]") for s in subjects)  # the assignee hears of the raise


def test_a_late_alert_is_raised_within_the_minute_the_worker_already_passed(
    mail_app: Flask, mail_router: Router
) -> None:
    """Each pass re-decides only what it has not decided this minute: never what arrived since."""
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(dt.datetime(2026, 12, 1, 1, 0, 5, tzinfo=dt.UTC))  # Tuesday 09:00:05: billing open
    state.now = clock
    worker = Worker(mail_router, state.sessions, now=clock)
    client = mail_app.test_client()
    assert (
        client.post("/webhook/alertmanager", json=webhook(alert("his-db", T0)), headers=auth()).status_code
        == 200
    )
    worker.run_once()
    # The insurance front-end failed at 21:00 last night (billing closed: P3); Alertmanager, down overnight,
    # delivers it now, in the minute the worker has just re-decided.
    late = webhook(alert("ins-fep", dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)))
    clock.at += dt.timedelta(seconds=20)
    assert client.post("/webhook/alertmanager", json=late, headers=auth()).status_code == 200
    with state.sessions() as session:
        assert session.execute(select(Incident.priority).where(Incident.ci == "ins-fep")).scalar_one() == "P3"
    worker.run_once()
    with state.sessions() as session:
        assert session.execute(select(Incident.priority).where(Incident.ci == "ins-fep")).scalar_one() == "P2"


def test_assignee_is_told(mail_app: Flask, mail_router: Router, smtp: SmtpServer) -> None:
    client = mail_app.test_client()
    state = mail_app.extensions["hospmon_router"]
    client.post("/webhook/alertmanager", json=webhook(alert("his-db", T0)), headers=auth())
    [inc] = js(client.get("/api/v1/incidents", headers=auth(API_TOKEN)))["incidents"]
    resp = client.post(
        f"/api/v1/incidents/{inc['id']}/assign", json={"to": "zhou.jing"}, headers=auth(API_TOKEN)
    )
    assert resp.status_code == 200
    with state.sessions() as session:
        recipients = session.execute(select(Notification.recipient)).scalars().all()
    assert "zhou.jing@hospital.example" in recipients

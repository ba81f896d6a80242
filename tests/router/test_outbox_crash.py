"""Pages in flight: a router killed mid-send pages again soon, once, with the same key, saying it may repeat;
a slow send keeps its lease, so no replica sends the same page too."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.context import Router, load_router
from alertrouter.models import Notification
from alertrouter.notify.channels import send
from alertrouter.worker import outbox
from alertrouter.worker.outbox import LEASE
from alertrouter.worker.run import Worker
from tests.router.conftest import Clock, auth, email_channel, events, plain
from tests.router.payloads import alert, webhook
from tests.router.servers import Process, start_router, wait_for
from tests.router.smtp import SmtpServer

RESENT_WITHIN = dt.timedelta(seconds=45)
"""How soon after a crash a page in doubt goes out again: a short lease, not minutes."""


def test_router_killed_after_the_mail_server_took_the_page_sends_it_again_once_and_says_so(
    tmp_path: Path, write_config: Callable[..., Path], smtp: SmtpServer
) -> None:
    """The HIS database fails; the router pages the on-call by email. The mail server has the message, but
    the router dies (SIGKILL, with its gunicorn workers) before it hears the 250 and records the send.

    Whether the on-call got the page is unknown. Paging twice beats not paging: a restarted router (or a
    replica) sends it again within 45 seconds, once the short lease has run out; once only, with the same
    notification key and a line saying it may be a repeat; the timeline says so too."""
    config = write_config(
        f"sqlite:///{tmp_path / 'router.db'}",
        channels=[email_channel(smtp)],
        worker={"enabled": True, "interval_seconds": 0.2},
    )
    proc: Process
    proc, port = start_router(tmp_path, config, own_group=True)
    taken: list[EmailMessage] = []
    killed: list[dt.datetime] = []

    def crash(msg: EmailMessage) -> None:
        taken.append(msg)
        proc.kill_group()
        killed.append(dt.datetime.now(dt.UTC))

    smtp.mailbox.before_reply = crash
    try:
        failed_at = dt.datetime.now(dt.UTC)
        body = webhook(alert("his-db", failed_at))
        hook = requests.post(f"http://127.0.0.1:{port}/webhook/alertmanager", json=body, headers=auth())
        assert hook.status_code == 200
        wait_for(lambda: proc.proc.poll() is not None, "the router to be killed mid-send", timeout=60)
    finally:
        smtp.mailbox.before_reply = None
        proc.stop()
    [first] = taken
    router = load_router(config)
    app = create_app(router)
    state = app.extensions["hospmon_router"]
    try:
        with state.sessions() as session:
            [note] = session.execute(select(Notification)).scalars().all()
        assert note.sent_at is None, "the send was never recorded"
        clock = Clock(killed[0] + RESENT_WITHIN)
        restarted = Worker(router, state.sessions, now=clock, lock=state.write_lock)
        restarted.run_once()
        assert len(smtp.mailbox.messages) == 2, f"sent again within {RESENT_WITHIN} of the crash"
        clock.at += 2 * LEASE
        restarted.run_once()
        with state.sessions() as session:
            [note] = session.execute(select(Notification)).scalars().all()
    finally:
        state.engine.dispose()
    assert len(smtp.mailbox.messages) == 2, "and only once"
    first_again, again = smtp.mailbox.messages
    assert first_again is first
    assert again["To"] == first["To"] and again["Subject"] == first["Subject"]
    key = first["X-Hospmon-Notification"]
    assert key and again["X-Hospmon-Notification"] == key, "both copies carry the same notification key"
    assert "you may have had this message already" in plain(again)
    assert "may arrive twice" in events(app, "notification_in_doubt")[0]
    assert note.status == "sent" and note.attempts == 2


def test_a_slow_mail_server_never_lets_a_replica_send_the_same_page(
    mail_app: Flask, mail_router: Router, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hospital's mail relay takes minutes to answer. The worker sending the page keeps its lease
    alive, so the second replica, finding the page still in flight, leaves it alone: one page, not two."""
    monkeypatch.setattr(outbox, "HEARTBEAT_SECONDS", 0.05)
    state = mail_app.extensions["hospmon_router"]
    clock = Clock(dt.datetime.now(dt.UTC))
    state.now = clock
    hook = webhook(alert("his-db", clock.at))
    assert mail_app.test_client().post("/webhook/alertmanager", json=hook, headers=auth()).status_code == 200
    relay_answers = threading.Event()

    def slow(*args: Any) -> None:
        relay_answers.wait(60)
        send(*args)

    first = Worker(mail_router, state.sessions, now=clock, sender=slow, lock=state.write_lock)
    sending = threading.Thread(target=first.run_once)
    sending.start()
    try:

        def lease() -> dt.datetime | None:
            with state.sessions() as session:
                row = session.execute(select(Notification.status, Notification.lease_until)).one_or_none()
            return row.lease_until if row is not None and row.status == "sending" else None

        wait_for(lease, "the first worker to start sending")
        clock.at += 2 * LEASE  # minutes pass; the relay still has not answered
        wait_for(lambda: (lease() or clock.at) > clock.at, "the heartbeat to renew the lease")
        Worker(mail_router, state.sessions, now=clock, lock=state.write_lock).run_once()
    finally:
        relay_answers.set()
        sending.join(60)
    assert len(smtp.mailbox.messages) == 1
    assert events(mail_app, "notification_in_doubt") == []

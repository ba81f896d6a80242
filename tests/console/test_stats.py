"""Statistics as numbers: business and off hours, pages out of hours, availability."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from alertrouter import incidents as svc
from alertrouter.console.stats import compute
from alertrouter.models import Notification
from tests.console.conftest import T0, incident_id, seed
from tests.router.payloads import alert

NIGHT = T0 + dt.timedelta(hours=14)  # Monday 23:00 in Shanghai


def test_business_and_off_hours_pages_and_availability(client: FlaskClient, app: Flask) -> None:
    state = app.extensions["hospmon_router"]
    for when, ack_after, resolve_after in ((T0, 5, 60), (NIGHT, 20, 120)):
        state.now = lambda when=when: when
        seed(client, alert("core-sw-1", when))
        inc = incident_id(client, "core-sw-1")
        with state.sessions() as session, session.begin():
            svc.acknowledge(inc, session=session, by="wang.lei", now=when + dt.timedelta(minutes=ack_after))
            svc.resolve(
                inc, session=session, by="wang.lei", note="", now=when + dt.timedelta(minutes=resolve_after)
            )
            for minutes, address in ((1, "wang.lei@hospital.example"), (2, "+86-555-0101"), (3, "nobody@x")):
                session.add(
                    Notification(
                        incident_id=inc,
                        channel="email",
                        recipient=address,
                        subject="",
                        body="",
                        status="sent",
                        attempts=1,
                        next_attempt_at=when,
                        created_at=when,
                        sent_at=when + dt.timedelta(minutes=minutes),
                        last_error="",
                    )
                )
    with state.sessions() as session:
        report = compute(
            state.router, session=session, start=T0 - dt.timedelta(hours=1), end=T0 + dt.timedelta(days=1)
        )
    team = report.by["team"]["network"]
    assert team.count == 2
    assert team.mean("ack", True) == 300 and team.mean("ack", False) == 1200 and team.mean("ack", None) == 750
    assert team.mean("res", True) == 3600 and team.mean("res", False) == 7200
    assert report.by["priority"]["P1"].count == 2
    work = report.workload["wang.lei"]
    assert (work.handled, work.off_hours, work.pages_off_hours) == (2, 1, 2)
    # Network down 3 hours of 25: availability 88 %.
    ratio, seconds = report.availability["network"]
    assert seconds == 3 * 3600 and abs(ratio - 22 / 25) < 1e-9
    assert report.top_cis == [("core-sw-1", 2)]
    # An outage still open counts up to now, and one that began before the period counts from its start.
    with state.sessions() as session:
        seed(client, alert("core-sw-2", T0 + dt.timedelta(hours=20)))
        later = compute(
            state.router,
            session=session,
            start=T0 + dt.timedelta(hours=21),
            end=T0 + dt.timedelta(days=7),
            now=T0 + dt.timedelta(hours=23),
        )
    assert later.total == 0 and later.availability["network"] == (0.0, 2 * 3600)


def test_department_table_counts_who_depends_on_each_ci(client: FlaskClient, app: Flask) -> None:
    """A night of floor switches, a CT scanner and a core switch: the ED is charged only with its own."""
    state = app.extensions["hospmon_router"]
    state.now = lambda: NIGHT
    cis = ("acc-sw-icu-5f", "acc-sw-op-2f", "acc-sw-or-3f", "ct-1", "acc-sw-ed-1f", "core-sw-1")
    for ci in cis:
        seed(client, alert(ci, NIGHT))
    with state.sessions() as session:
        report = compute(state.router, session=session, start=T0, end=T0 + dt.timedelta(days=1))
    counts = {dept: times.count for dept, times in report.by["department"].items()}
    # The core switch is the ED's too (shared infrastructure); the floor switches belong to their floors.
    assert counts == {"icu": 1, "outpatient": 1, "or": 1, "radiology": 1, "ed": 2}

"""An on-call gap on PostgreSQL: the incident raised for it does not use up incident numbers every pass."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.context import load_router
from alertrouter.models import Incident
from alertrouter.worker.run import Worker
from demo.servers.postgres import PostgresServer
from tests.router.conftest import Clock, auth, dba_gap_policy
from tests.router.payloads import alert, webhook

_names = itertools.count()


def test_incident_numbers_run_on_while_nobody_is_on_call_for_the_dba_next_week(
    postgres: PostgresServer, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    """The DBA lead's leave leaves a day uncovered next week: one incident says so. The worker checks
    every two seconds; when the HIS database fails ten passes later, its incident is the next number."""
    now = dt.datetime.now(dt.UTC)
    policy = dba_gap_policy(tmp_path, now)
    name = f"gap{next(_names)}"
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE router_template")
    router = load_router(write_config(postgres.url(name), policy=str(policy)))
    app = create_app(router)
    try:
        state = app.extensions["hospmon_router"]
        clock = Clock(now)
        state.now = clock
        worker = Worker(router, state.sessions, now=clock)
        for _ in range(10):
            worker.run_once()
            clock.at += dt.timedelta(seconds=2)
        body = webhook(alert("his-db", clock.at))
        assert app.test_client().post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
        with state.sessions() as session:
            numbers = {r.alertname: r.id for r in session.execute(select(Incident.alertname, Incident.id))}
        assert numbers["TargetDown"] == numbers["OnCallGap"] + 1, numbers
    finally:
        state.engine.dispose()

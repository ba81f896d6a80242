"""A PostgreSQL restart (a minor upgrade, a failover, a DBA's maintenance) costs the router no 503.

Without a liveness check on checkout, each connection the pool held answered one 503 after the restart:
Alertmanager retried, but the API and the console showed errors to the engineer on duty for no reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from demo.servers.postgres import PostgresServer
from tests.router.conftest import API_TOKEN, router_config
from tests.router.payloads import alert, webhook
from tests.router.servers import Process, start_router
from tests.servers import throwaway_postgres

T0 = dt.datetime(2026, 10, 1, 19, 10, tzinfo=dt.UTC)


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own: restarting the session's would break the other tests' pools."""
    pg = throwaway_postgres()
    try:
        pg.execute("CREATE DATABASE router")
        yield pg
    finally:
        pg.stop()


def test_postgres_restart_costs_no_503(server: PostgresServer, tmp_path: Path) -> None:
    proc: Process
    proc, port = start_router(tmp_path, router_config(tmp_path, server.url("router")))
    base = f"http://127.0.0.1:{port}"
    hook = {"Authorization": "Bearer webhook-token-0123456789"}
    api = {"Authorization": f"Bearer {API_TOKEN}"}

    def deliver(i: int) -> int:
        body = webhook(alert(f"ws-{i}", T0 + dt.timedelta(minutes=i)))
        return requests.post(f"{base}/webhook/alertmanager", json=body, headers=hook, timeout=30).status_code

    def read(_: int) -> int:
        return requests.get(f"{base}/api/v1/incidents", headers=api, timeout=30).status_code

    try:
        # Fill both gunicorn processes' pools with open connections.
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(deliver, range(16))) == {200}
        server.restart()
        answers = [deliver(i) for i in range(16, 40)] + [read(i) for i in range(24)]
        assert answers.count(503) == 0 and set(answers) == {200}
    finally:
        proc.stop()

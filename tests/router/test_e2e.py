"""End to end: a rule fires in Prometheus, Alertmanager calls the router, an incident opens with the expected
priority, owner and explanation, an email reaches a real SMTP server, and the resolve flows back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from alertrouter.context import load_router
from alertrouter.policy.oncall import on_call
from tests.router.conftest import API_TOKEN, TOKEN
from tests.router.outage import Outage
from tests.router.servers import (
    MetricTarget,
    Process,
    start_alertmanager,
    start_prometheus,
    start_router,
    wait_for,
)
from tests.router.smtp import SmtpServer


@contextmanager
def chain(tmp_path: Path, config: Path, target: MetricTarget, ci: str) -> Iterator[tuple[Process, int]]:
    """Run router, Alertmanager and a Prometheus scraping `target` with `ci` up; yield router and port."""
    procs: list[Process] = []
    try:
        router, rport = start_router(tmp_path, config)
        procs.append(router)
        am, am_port = start_alertmanager(tmp_path, rport, tmp_path / "token")
        procs.append(am)
        target.values[ci] = 1
        prom, _ = start_prometheus(tmp_path, target.port, am_port)
        procs.append(prom)
        yield router, rport
    finally:
        for proc in reversed(procs):
            proc.stop()


@pytest.fixture
def target() -> Iterator[MetricTarget]:
    t = MetricTarget()
    yield t
    t.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.mark.slow
def test_rule_to_incident_to_email_and_back(
    database_url: str,
    write_config: Callable[..., Path],
    tmp_path: Path,
    target: MetricTarget,
    smtp: SmtpServer,
) -> None:
    channels = [
        {
            "name": "email",
            "kind": "email",
            "priorities": ["P1", "P2"],
            "smtp": {
                "host": "127.0.0.1",
                "port": smtp.port,
                "sender": "router@hospital.example",
                "security": "none",
            },
        }
    ]
    config = write_config(database_url, channels=channels, worker={"enabled": True, "interval_seconds": 0.5})
    with chain(tmp_path, config, target, "his-db") as (router, rport):
        api = f"http://127.0.0.1:{rport}/api/v1"
        headers = {"Authorization": f"Bearer {API_TOKEN}"}

        def incidents(**params: str) -> list[dict[str, Any]]:
            resp = requests.get(f"{api}/incidents", params=params, headers=headers, timeout=5)
            resp.raise_for_status()
            found: list[dict[str, Any]] = resp.json()["incidents"]
            return found

        target.values["his-db"] = 0
        [inc] = wait_for(lambda: incidents(ci="his-db"), "the incident", log=router.log)
        assert inc["priority"] == "P1" and inc["team"] == "apps" and inc["status"] == "triggered"
        assert inc["explanation"].startswith(
            "P1: Emergency Department depends on his-db (his-db is shared infrastructure of Hospital Info"
        )
        loaded = load_router(config)
        expected = on_call(loaded.inventory, loaded.policy, "apps", dt.datetime.now(dt.UTC)).person
        assert inc["assignee"] == expected
        assert f"on call {expected}" in inc["owner_explanation"]
        msg = wait_for(lambda: smtp.mailbox.messages, "the email", log=router.log)[0]
        assert expected is not None
        address = {m.id: m.contacts.email for m in loaded.inventory.teams["apps"].members}[expected]
        assert msg["To"] == address and msg["Subject"].startswith(f"[P1] #{inc['id']} TargetDown on his-db")
        # The link takes the person paged to the console's incident page.
        text = msg.get_body(("plain",)).get_content() if msg.is_multipart() else msg.get_content()
        assert f"/console/incidents/{inc['id']}" in text
        target.values["his-db"] = 1
        wait_for(lambda: incidents(ci="his-db", status="resolved"), "the resolve", log=router.log)
        full = requests.get(f"{api}/incidents/{inc['id']}", headers=headers, timeout=5).json()
        kinds = [e["kind"] for e in full["timeline"]]
        assert kinds[:2] == ["opened", "paged"] and "notification_sent" in kinds and kinds[-1] == "resolved"
        assert full["alerts"][0]["labels"]["job"] == "demo"
        assert TOKEN not in (tmp_path / "router.log").read_text()
        metrics = requests.get(f"http://127.0.0.1:{rport}/metrics", timeout=5).text
        assert 'hospmon_router_alerts_received_total{outcome="new"} 1.0' in metrics
        assert 'hospmon_router_mttr_seconds_count{priority="P1",team="apps"} 1.0' in metrics


@pytest.mark.slow
def test_store_outage_alertmanager_retries_nothing_lost(
    database_url: str,
    write_config: Callable[..., Path],
    tmp_path: Path,
    target: MetricTarget,
    request: pytest.FixtureRequest,
) -> None:
    server = request.getfixturevalue("postgres") if database_url.startswith("postgresql") else None
    config = write_config(
        database_url,
        database={"url": database_url, "busy_timeout_ms": 200},
        worker={"enabled": True, "interval_seconds": 0.5},
    )
    with chain(tmp_path, config, target, "lis-db") as (router, rport):
        base = f"http://127.0.0.1:{rport}"

        def refused() -> bool:
            text = requests.get(f"{base}/metrics", timeout=5).text
            return 'hospmon_router_webhook_requests_total{code="503"} 0.0' not in text

        with Outage(database_url, server):
            target.values["lis-db"] = 0
            wait_for(refused, "a 503 during the outage", log=router.log)
        headers = {"Authorization": f"Bearer {API_TOKEN}"}

        def stored() -> list[dict[str, Any]]:
            resp = requests.get(
                f"{base}/api/v1/incidents", params={"ci": "lis-db"}, headers=headers, timeout=5
            )
            found: list[dict[str, Any]] = resp.json()["incidents"] if resp.ok else []
            return found

        [inc] = wait_for(stored, "the incident after the outage", log=router.log)
        assert inc["priority"] == "P1" and inc["team"] == "medtech"

"""A delivery with ``truncatedAlerts``: the worker fetches the missing alerts from a real Alertmanager,
and never the silenced or inhibited ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.changes import Alertmanager as ChangeSilences
from alertrouter.context import load_router
from alertrouter.models import Alert, Delivery, Incident
from alertrouter.worker.run import Worker
from tests.router.conftest import TOKEN, auth, email_channel
from tests.router.payloads import alert, iso, webhook
from tests.router.servers import Process, serve, shipped_alertmanager_config, start_alertmanager
from tests.router.smtp import SmtpServer
from tests.servers import alertmanager as run_alertmanager
from tests.servers import free_port, wait_for


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "am-token").write_text("unused")
    proc: Process
    proc, port = start_alertmanager(tmp_path, free_port(), tmp_path / "am-token")
    yield port
    proc.stop()


def test_missing_alerts_are_fetched_from_api_v2(
    database_url: str, write_config: Callable[..., Path], alertmanager: int
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    group = [alert(ci, now, name="TargetDown") for ci in ("his-db", "lis-db", "emr-db")]
    am = f"http://127.0.0.1:{alertmanager}"
    posted = [
        {
            "labels": a["labels"],
            "annotations": a["annotations"],
            "startsAt": iso(now),
            "endsAt": iso(now + dt.timedelta(hours=1)),
            "generatorURL": a["generatorURL"],
        }
        for a in group
    ]
    requests.post(f"{am}/api/v2/alerts", json=posted, timeout=5).raise_for_status()
    router = load_router(write_config(database_url, alertmanager={"url": am}))
    app = create_app(router)
    try:
        body = webhook(group[0], truncated=2, groupLabels={"alertname": "TargetDown"})
        body["receiver"] = "hospmon-router"
        assert app.test_client().post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
        Worker(router, app.extensions["hospmon_router"].sessions).run_once()
        with app.extensions["hospmon_router"].sessions() as session:
            cis = sorted(session.execute(select(Alert.ci)).scalars())
            [delivery] = session.execute(select(Delivery)).scalars().all()
        assert delivery.fetch_status == "done" and delivery.truncated == 2
        # The first alert came with the webhook and again from the API (Alertmanager's own fingerprint): the
        # three CIs are all present.
        assert {"his-db", "lis-db", "emr-db"} <= set(cis)
    finally:
        app.extensions["hospmon_router"].engine.dispose()


def _am_alert(name: str, ci: str, now: dt.datetime, severity: str = "critical") -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "ci": ci, "severity": severity},
        "annotations": {"summary": f"{name} on {ci}"},
        "startsAt": iso(now),
        "endsAt": iso(now + dt.timedelta(hours=1)),
    }


def test_truncated_group_never_pages_a_silenced_or_inhibited_alert(
    database_url: str, write_config: Callable[..., Path], smtp: SmtpServer, tmp_path: Path
) -> None:
    """The HIS database is in a planned change (silenced); acc-sw-op-2f's warranty has expired, which
    inhibits its "expiring soon". Alertmanager groups by alert name and sends one alert per delivery
    (max_alerts: 1); the router fetches the rest, and neither muted alert is stored or paged."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    router_port = free_port()
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = shipped_alertmanager_config(
        f"http://127.0.0.1:{router_port}/webhook/alertmanager",
        tmp_path / "token",
        max_alerts=1,
        group_by=["alertname"],
        group_wait="1s",
        group_interval="1s",
    )
    with run_alertmanager(config, tmp_path / "am") as am:
        router = load_router(
            write_config(database_url, alertmanager={"url": am}, channels=[email_channel(smtp)])
        )
        app = create_app(router)
        state = app.extensions["hospmon_router"]
        try:
            change = ChangeSilences(am)
            change.create_silence(
                ["his-db"], now - dt.timedelta(minutes=5), now + dt.timedelta(hours=2), "zhou.jing", "upgrade"
            )
            expired = _am_alert("CIWarrantyExpired", "acc-sw-op-2f", now, "warning")
            alerts = [_am_alert("TargetDown", ci, now) for ci in ("his-db", "lis-db", "emr-db")]
            alerts += [
                _am_alert("CIWarrantyExpiringSoon", ci, now, "info")
                for ci in ("acc-sw-op-2f", "ct-1", "san-1")
            ]

            def stored(name: str) -> bool:
                with state.sessions() as session:
                    return (
                        session.execute(select(Alert.id).where(Alert.alertname == name)).first() is not None
                    )

            def truncated() -> bool:
                with state.sessions() as session:
                    rows = session.execute(select(Delivery.truncated)).scalars().all()
                return sum(rows) >= 2

            with serve(app, router_port):
                # The warranty expired long before today's alerts: Alertmanager has notified it, so it knows
                # it as an inhibiting source before the "expiring soon" alerts arrive.
                requests.post(f"{am}/api/v2/alerts", json=[expired], timeout=5).raise_for_status()
                wait_for(lambda: stored("CIWarrantyExpired"), 30, "the expired warranty to be delivered")
                requests.post(f"{am}/api/v2/alerts", json=alerts, timeout=5).raise_for_status()
                wait_for(truncated, 30, "two truncated deliveries from Alertmanager")
                Worker(router, state.sessions, lock=state.write_lock).run_once()
            with state.sessions() as session:
                kept = sorted((r.alertname, r.ci) for r in session.execute(select(Alert.alertname, Alert.ci)))
                fetches = session.execute(select(Delivery.fetch_status)).scalars().all()
                cis = set(session.execute(select(Incident.ci)).scalars())
        finally:
            state.engine.dispose()
    assert fetches and set(fetches) == {"done"}
    assert kept == [
        ("CIWarrantyExpired", "acc-sw-op-2f"),
        ("CIWarrantyExpiringSoon", "ct-1"),
        ("CIWarrantyExpiringSoon", "san-1"),
        ("TargetDown", "emr-db"),
        ("TargetDown", "lis-db"),
    ]
    assert "his-db" not in cis
    assert smtp.mailbox.messages, "the unsilenced database failures are paged"
    assert not [m for m in smtp.mailbox.messages if "his-db" in m["Subject"]]

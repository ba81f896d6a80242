"""The store under stress: an outage answers 503 and loses nothing; two routers on one store never split."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from alertrouter.app import create_app
from alertrouter.context import load_router
from alertrouter.models import Alert, Incident
from tests.router.conftest import auth, js
from tests.router.outage import Outage
from tests.router.payloads import alert, iso, real, webhook

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def _counts(app: Flask) -> tuple[int, int]:
    with app.extensions["hospmon_router"].sessions() as session:
        incidents = session.execute(select(func.count()).select_from(Incident)).scalar_one()
        alerts = session.execute(select(func.count()).select_from(Alert)).scalar_one()
        return int(incidents), int(alerts)


def test_outage_answers_503_then_nothing_is_lost(
    database_url: str, write_config: Callable[..., Path], request: Any
) -> None:
    server = request.getfixturevalue("postgres") if database_url.startswith("postgresql") else None
    router = load_router(write_config(database_url, database={"url": database_url, "busy_timeout_ms": 100}))
    app = create_app(router)
    client = app.test_client()
    try:
        assert (
            client.post(
                "/webhook/alertmanager", json=webhook(alert("his-db", T0)), headers=auth()
            ).status_code
            == 200
        )
        payload = real("firing-core-sw-1.json")
        with Outage(database_url, server):
            resp = client.post("/webhook/alertmanager", json=payload, headers=auth())
            assert resp.status_code == 503, resp.json
            assert resp.headers["Retry-After"] == "5"
            assert js(resp)["error"]["reason"] == "the store is unavailable; retry later"
            assert client.get("/-/ready").status_code == 503
            assert client.get("/-/healthy").status_code == 200
            assert "hospmon_router_store_up 0.0" in client.get("/metrics").text
        # Alertmanager retries the same delivery once the store is back.
        assert client.post("/webhook/alertmanager", json=payload, headers=auth()).status_code == 200
        assert client.get("/-/ready").status_code == 200
        assert _counts(app) == (3, 3)  # his-db; core-sw-1 and his-web, grouped under it
    finally:
        app.extensions["hospmon_router"].engine.dispose()


def _send(app: Flask, body: dict[str, Any], barrier: threading.Barrier, codes: list[int]) -> None:
    client = app.test_client()
    barrier.wait()
    codes.append(client.post("/webhook/alertmanager", json=body, headers=auth()).status_code)


def test_two_routers_same_payload_same_moment_one_incident(
    database_url: str, write_config: Callable[..., Path]
) -> None:
    router = load_router(write_config(database_url))
    apps = [create_app(router) for _ in range(2)]
    try:
        for round_ in range(8):
            start = T0 + dt.timedelta(minutes=round_)
            payload = webhook(
                *(
                    alert(ci, start, name="CIProbeFailed")
                    for ci in ("core-sw-1", "his-web", "acc-sw-icu-5f", f"unknown-{round_}")
                )
            )
            barrier = threading.Barrier(4)
            codes: list[int] = []

            threads = [
                threading.Thread(target=_send, args=(apps[i % 2], payload, barrier, codes)) for i in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert codes == [200] * 4
            # Resolve the round before the next one starts, so that one opens fresh incidents.
            ends = iso(start + dt.timedelta(seconds=30))
            done = webhook(*[{**a, "status": "resolved", "endsAt": ends} for a in payload["alerts"]])
            assert (
                apps[0].test_client().post("/webhook/alertmanager", json=done, headers=auth()).status_code
                == 200
            )
        incidents, alerts = _counts(apps[0])
        assert alerts == 8 * 4
        assert incidents == 8 * 4  # one per CI and round, never two
        with apps[0].extensions["hospmon_router"].sessions() as session:
            rows = session.execute(select(Incident.id, Incident.ci, Incident.parent_id)).all()
        # Each round's his-web and ICU switch are grouped under that round's core-sw-1.
        ci_of = {r.id: r.ci for r in rows}
        assert sorted(ci_of[r.parent_id] for r in rows if r.parent_id) == ["core-sw-1"] * 16
    finally:
        for app in apps:
            app.extensions["hospmon_router"].engine.dispose()

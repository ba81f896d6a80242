"""A delivery with ``truncatedAlerts``: the worker fetches the missing alerts from a real Alertmanager."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.context import load_router
from alertrouter.models import Alert, Delivery
from alertrouter.worker.run import Worker
from tests.router.conftest import auth
from tests.router.payloads import alert, iso, webhook
from tests.router.servers import Process, start_alertmanager
from tests.servers import free_port


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

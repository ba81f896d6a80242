"""The console's demo part seeds the router's store so the demo's console has a resolved incident to show."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alertrouter.app import create_app
from demo.launcher import DEMO_INVENTORY
from demo.parts import console as console_part
from demo.parts import router as router_part
from tests.console.conftest import login


def test_demo_console_shows_a_resolved_incident(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "alertmanager" / "secrets").mkdir(parents=True)
    (run / "alertmanager" / "secrets" / "router-webhook-token").write_text("demo-token-0123456789\n")
    inventory = DEMO_INVENTORY
    assert console_part.parts(run, inventory) == []
    assert console_part.parts(run, inventory) == []  # a second start changes nothing
    router_part.parts(run, inventory)  # writes the config the demo's router runs with
    app = create_app(run / "router" / "router.yml")
    try:
        client = app.test_client()
        password = (run / "console" / "password").read_text().strip()
        assert login(client, "guest", password) == 303
        assert "UPS" in client.get("/console/kb?q=切换柜").text
        assert 'id="total">1<' in client.get("/console/stats").text
        # The demo's incident is a day old: the last three days hold it, whatever the weekday.
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        recent = f"/console/report?from={today - dt.timedelta(days=2)}&to={today}"
        assert 'id="week-total">1<' in client.get(recent).text
        assert "ups-mr1-01" in client.get("/console/?status=resolved").text
    finally:
        app.extensions["hospmon_router"].engine.dispose()

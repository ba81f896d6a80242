"""The console's command line: users and the demo's resolved incident, through the real entry point."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from alertrouter.app import create_app
from alertrouter.context import load_router
from alertrouter.migrate import upgrade
from tests.console.conftest import PASSWORD, login

REPO = Path(__file__).resolve().parents[2]


def _cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("HOSPMON_CONSOLE_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "alertrouter.console.cli", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path, write_config: Callable[..., Path]) -> Path:
    """A router config on a migrated SQLite store."""
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    return write_config(url)


def test_demo_seed_and_users(config: Path) -> None:
    seeded = _cli(config, "demo-seed", stdin=PASSWORD + "\n")
    assert seeded.returncode == 0, seeded.stderr
    assert "user guest (viewer)" in seeded.stdout and "resolved with an article" in seeded.stdout
    again = _cli(config, "demo-seed", "--password-file", str(config.parent / "pw"))
    assert again.returncode == 0 and again.stdout.strip() == "nothing to do"
    assert len((config.parent / "pw").read_text().strip()) >= 16
    assert _cli(config, "user", "li.na", "--role", "engineer", stdin="short\n").returncode == 2
    added = _cli(config, "user", "li.na", "--role", "engineer", stdin=PASSWORD + "\n")
    assert added.returncode == 0 and "added li.na" in added.stdout
    app: Flask = create_app(load_router(config))
    try:
        client = app.test_client()
        assert login(client, "li.na") == 303
        assert "UPS" in client.get("/console/kb?q=切换柜").text
        stats = client.get("/console/stats").text
        assert 'id="total">1<' in stats and "电力与环境" not in stats and "power" in stats
        # The demo's incident is a day old: the last three days hold it, whatever the weekday.
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        recent = f"/console/report?from={today - dt.timedelta(days=2)}&to={today}"
        assert 'id="week-total">1<' in client.get(recent).text
    finally:
        app.extensions["hospmon_router"].engine.dispose()
    assert _cli(config, "scan-problems").returncode == 0
    assert _cli(config, "sync-changes").returncode == 0

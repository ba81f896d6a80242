"""Fixtures: a router config, its store on SQLite or a real PostgreSQL, the app and a client."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.context import Router, load_router
from alertrouter.migrate import upgrade
from alertrouter.models import Event
from demo.servers.postgres import PostgresServer
from tests.router.smtp import SmtpServer
from tests.servers import throwaway_postgres

REPO = Path(__file__).resolve().parents[2]
TOKEN = "webhook-token-0123456789"
API_TOKEN = "api-token-0123456789abcdef"
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Start one PostgreSQL for the session, with a migrated template database."""
    server = throwaway_postgres()
    try:
        server.execute("CREATE DATABASE router_template")
        upgrade(server.url("router_template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a fresh, migrated store: a SQLite file, or a PostgreSQL database cloned from the template."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'router.db'}"
        upgrade(url)
        return url
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t{next(_counter)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE router_template")
    return server.url(name)


def router_config(folder: Path, database_url: str, **overrides: Any) -> Path:
    """Write a router config file (and its token files) into `folder`; keywords override top-level keys."""
    (folder / "token").write_text(TOKEN + "\n")
    (folder / "api-tokens").write_text(f"wang.lei {API_TOKEN}\n")
    config: dict[str, Any] = {
        "inventory": str(REPO / "demo" / "inventory"),
        "policy": str(REPO / "rules" / "routing" / "policy.yml"),
        "database": {"url": database_url, "busy_timeout_ms": 2000},
        "webhook_auth": {"bearer_token_file": "token"},
        "api_tokens_file": "api-tokens",
        "worker": {"enabled": False},
    }
    config.update(overrides)
    path = folder / "router.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Return a function writing a router config file; keyword arguments override top-level keys."""

    def write(database_url: str, **overrides: Any) -> Path:
        return router_config(tmp_path, database_url, **overrides)

    return write


@pytest.fixture
def router(database_url: str, write_config: Callable[..., Path]) -> Router:
    """Return the loaded router config on a fresh store."""
    return load_router(write_config(database_url))


@pytest.fixture
def app(router: Router) -> Iterator[Flask]:
    """Return the app; dispose of its engine afterwards so no connection leaks."""
    app = create_app(router)
    yield app
    app.extensions["hospmon_router"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


def auth(token: str = TOKEN) -> dict[str, str]:
    """Return the Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def js(resp: Any) -> Any:
    """Return a test response's JSON body (typed Any, so tests may index it)."""
    return resp.json


T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai


class Clock:
    """A settable clock."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        """Return the time set."""
        return self.at


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Start a real SMTP server (aiosmtpd) that keeps what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()


def email_channel(smtp: SmtpServer) -> dict[str, Any]:
    """Return the config of an email channel for P1-P3 through the SMTP server, without TLS."""
    return {
        "name": "email",
        "kind": "email",
        "priorities": ["P1", "P2", "P3"],
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "router@hospital.example",
            "security": "none",
        },
    }


@pytest.fixture
def mail_router(database_url: str, write_config: Callable[..., Path], smtp: SmtpServer) -> Router:
    """Return a router that emails P1-P3 pages to the SMTP server; retries after 10 s, twice at most."""
    channels = [email_channel(smtp)]
    path = write_config(
        database_url, channels=channels, worker={"enabled": False, "retry_seconds": 10, "max_attempts": 2}
    )
    return load_router(path)


@pytest.fixture
def mail_app(mail_router: Router) -> Iterator[Flask]:
    """Return the app of `mail_router`."""
    app = create_app(mail_router)
    yield app
    app.extensions["hospmon_router"].engine.dispose()


def events(app: Flask, kind: str) -> list[str]:
    """Return the timeline texts of one kind, oldest first."""
    with app.extensions["hospmon_router"].sessions() as session:
        return list(
            session.execute(select(Event.text).where(Event.kind == kind).order_by(Event.id)).scalars()
        )


def plain(msg: Any) -> str:
    """Return the plain-text body of an email."""
    part = msg.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


def dba_gap_policy(folder: Path, now: dt.datetime) -> Path:
    """Write the shipped policy with nobody on call for the DBA team from two to three days after `now`."""
    policy = yaml.safe_load((REPO / "rules" / "routing" / "policy.yml").read_text())
    policy["calendar"] = {"country": "CN", "files": []}
    policy["overrides"] = [
        {
            "team": "dba",
            "person": None,
            "start": (now + dt.timedelta(days=2)).isoformat(),
            "end": (now + dt.timedelta(days=3)).isoformat(),
        }
    ]
    path = folder / "policy.yml"
    path.write_text(yaml.safe_dump(policy))
    return path

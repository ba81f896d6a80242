"""Fixtures: the router's app on SQLite and PostgreSQL, with console users, and a logged-in test client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright

from alertrouter.console.models import Role
from alertrouter.console.users import create_user
from tests.console.browser import CHROMIUM_ARGS
from tests.router import conftest as router_fixtures
from tests.router.conftest import API_TOKEN, auth
from tests.router.payloads import alert, webhook
from tests.servers import require

# The router's fixtures: its app and client on a fresh SQLite file and a fresh PostgreSQL database.
postgres = router_fixtures.postgres
database_url = router_fixtures.database_url
write_config = router_fixtures.write_config
router = router_fixtures.router
app = router_fixtures.app
client = router_fixtures.client

PASSWORD = "correct horse battery"
USERS = {"admin": Role.admin, "wang.lei": Role.engineer, "zhao.min": Role.engineer, "guest": Role.viewer}
T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium through Playwright (no downloaded browsers), once for the console's tests.

    Not for the session: Playwright's sync API keeps an event loop running while it is open, and tests of
    other packages that run their own (pysnmp's) would find it; it closes when the console package ends."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=require("chromium"), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def users(app: Flask) -> dict[str, Role]:
    """Create one user per role (wang.lei and zhao.min are people of the demo inventory)."""
    state = app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        for name, role in USERS.items():
            # bcrypt's cheapest cost keeps the tests quick; the console itself uses 12.
            create_user(name, PASSWORD, role, session=session, now=T0, rounds=4)
    return USERS


def csrf_of(html: str) -> str:
    """Return the first CSRF token in a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **headers: str) -> int:
    """Log in through the form; return the status of the POST."""
    page = client.get("/console/login", headers=headers)
    resp = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text)},
        headers=headers,
    )
    return resp.status_code


@pytest.fixture
def as_user(client: FlaskClient, users: dict[str, Role]) -> Callable[[str], str]:
    """Return a function that logs the client in and returns the session's CSRF token."""

    def go(username: str) -> str:
        assert login(client, username) == 303
        return csrf_of(client.get("/console/settings").text)

    return go


def seed(client: FlaskClient, *alerts: dict[str, object]) -> None:
    """Post alerts to the webhook (by default a core switch and a dependent HIS server failing)."""
    body = webhook(*(alerts or (alert("core-sw-1", T0), alert("his-web", T0))))
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200


def incident_id(client: FlaskClient, ci: str) -> int:
    """Return the id of the newest incident on a CI, read from the JSON API."""
    found = client.get(
        f"/api/v1/incidents?ci={ci}&status=triggered,acknowledged,resolved", headers=auth(API_TOKEN)
    )
    return int(found.json["incidents"][0]["id"])

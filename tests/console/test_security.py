"""Login, sessions, CSRF, roles, rate limiting, injection: the console's guards."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.app import create_app
from alertrouter.console.models import AuditEntry, LoginFailure, Resolution, Role
from alertrouter.context import Router
from tests.console.conftest import PASSWORD, csrf_of, incident_id, login, seed


def test_pages_need_login(client: FlaskClient) -> None:
    resp = client.get("/console/")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert client.post("/console/incidents/1/acknowledge").status_code == 401


def test_login_rotates_session_and_sets_safe_cookies(client: FlaskClient, users: dict[str, Role]) -> None:
    assert login(client, "wang.lei") == 303
    first = client.get_cookie("hospmon_console", path="/console")
    assert first is not None and first.http_only and first.same_site == "Lax"
    assert login(client, "wang.lei") == 303
    second = client.get_cookie("hospmon_console", path="/console")
    assert second is not None and second.value != first.value
    # The old session is gone: its cookie no longer logs anyone in.
    client.set_cookie("hospmon_console", first.value, path="/console")
    assert client.get("/console/").status_code == 302


def test_cookies_are_secure_over_https(app: Flask, users: dict[str, Role]) -> None:
    https = app.test_client()
    https.application.config["PREFERRED_URL_SCHEME"] = "https"
    page = https.get("/console/login", base_url="https://router.example")
    form = {"username": "guest", "password": "correct horse battery", "csrf": csrf_of(page.text)}
    # Over HTTPS the form must come from this site (Flask-WTF checks the Referer, which browsers send).
    elsewhere = https.post(
        "/console/login",
        base_url="https://router.example",
        data=form,
        headers={"Referer": "https://evil.example/"},
    )
    assert elsewhere.status_code == 403
    resp = https.post(
        "/console/login",
        base_url="https://router.example",
        data=form,
        headers={"Referer": "https://router.example/console/login"},
    )
    assert resp.status_code == 303
    for sent, name in ((resp, "hospmon_console="), (page, "hospmon_session="), (resp, "hospmon_session=")):
        cookie = next(h for h in sent.headers.getlist("Set-Cookie") if h.startswith(name))
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_form_without_csrf_token_is_refused(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    seed(client)
    token = as_user("wang.lei")
    inc = incident_id(client, "core-sw-1")
    assert client.post(f"/console/incidents/{inc}/acknowledge").status_code == 403
    assert client.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": "x" * 43}).status_code == 403
    assert client.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": token}).status_code == 303
    # The login form has its own token (a double-submit cookie).
    assert client.post("/console/login", data={"username": "wang.lei", "password": "x"}).status_code == 403


def test_twenty_wrong_logins_get_429(client: FlaskClient, app: Flask, users: dict[str, Role]) -> None:
    codes = [login(client, "wang.lei", "wrong password") for _ in range(20)]
    assert codes[0] == 401 and codes[-1] == 429
    assert login(client, "wang.lei") == 429  # even the right password, until the window passes
    # Another name from the same address is stopped once the address has failed 20 times.
    codes = [login(client, f"nobody{n}", "wrong password") for n in range(12)]
    assert codes[-1] == 429
    with app.extensions["hospmon_router"].sessions() as session:
        failures = session.execute(select(func.count()).select_from(LoginFailure)).scalar_one()
        limited = session.execute(
            select(func.count()).where(AuditEntry.action == "login_limited")
        ).scalar_one()
    assert failures >= 20 and limited >= 2


def test_viewer_cannot_resolve(client: FlaskClient, app: Flask, as_user: Callable[[str], str]) -> None:
    seed(client)
    token = as_user("guest")
    inc = incident_id(client, "core-sw-1")
    page = client.get(f"/console/incidents/{inc}")
    assert page.status_code == 200 and 'id="resolve"' not in page.text
    resp = client.post(
        f"/console/incidents/{inc}/resolve",
        data={"csrf": token, "cause": "hardware", "fix": "replaced", "minutes": "5"},
    )
    assert resp.status_code == 403
    with app.extensions["hospmon_router"].sessions() as session:
        assert session.get(Resolution, inc) is None
    assert client.get("/console/users").status_code == 403


def test_injection_strings_in_search(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    token = as_user("wang.lei")
    for title in ("Core switch line card failure", "医保前置机网络中断处理"):
        resp = client.post(
            "/console/kb/new", data={"csrf": token, "title": title, "body": title + " details"}
        )
        assert resp.status_code == 303
    evil = [
        "' OR 1=1 --",
        '" OR "1"="1',
        "x' UNION SELECT password_hash FROM console_users --",
        "*",
        "NEAR(a b)",
        '"',
        "%",
        "_",
        "a OR b",
        "); DROP TABLE kb_articles; --",
        "title:*",
        "\\",
    ]
    for q in evil:
        resp = client.get("/console/kb", query_string={"q": q})
        assert resp.status_code == 200, q
        assert "Core switch" not in resp.text and "医保" not in resp.text, q
        assert "$2b$" not in resp.text
    assert "Core switch" in client.get("/console/kb", query_string={"q": "line card"}).text
    # Edits are searchable at once (the index follows the table through triggers).
    resp = client.post(
        "/console/kb/1/edit",
        data={"csrf": token, "title": "Core switch fan tray", "body": "fan tray swapped"},
    )
    assert resp.status_code == 303
    assert "Core switch" not in client.get("/console/kb", query_string={"q": "line card"}).text
    assert "Core switch fan tray" in client.get("/console/kb", query_string={"q": "fan tray"}).text


def test_audit_log_records_changes(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    seed(client)
    token = as_user("admin")
    inc = incident_id(client, "core-sw-1")
    client.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": token})
    client.post(f"/console/incidents/{inc}/note", data={"csrf": token, "text": "on site"})
    page = client.get("/console/audit").text
    for action in ("login", "acknowledge", "note"):
        assert f"<td>{action}</td>" in page
    assert f"incident {inc}" in page


def test_markup_in_user_text_is_escaped(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    token = as_user("wang.lei")
    title = "<script>alert(1)</script> UPS"
    resp = client.post(
        "/console/kb/new", data={"csrf": token, "title": title, "body": "<img src=x onerror=alert(2)>"}
    )
    article = client.get(resp.headers["Location"])
    assert "<script>alert(1)" not in article.text and "&lt;script&gt;alert(1)" in article.text
    assert "<img src=x" not in article.text
    assert "script-src 'self'" in article.headers["Content-Security-Policy"]


def test_logout_ends_the_session(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    token = as_user("guest")
    assert client.get("/console/").status_code == 200
    assert client.post("/console/logout", data={"csrf": token}).status_code == 303
    assert client.get("/console/").status_code == 302
    missing = client.get("/console/incidents/999999")
    assert missing.status_code == 302  # logged out: to the login page, not a 404 that tells anything


def test_unknown_incident_is_a_page_not_json(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    as_user("guest")
    missing = client.get("/console/incidents/999999")
    assert missing.status_code == 404 and 'id="error"' in missing.text


def test_no_redirect_off_the_console(client: FlaskClient, users: dict[str, Role]) -> None:
    for target in ("https://evil.example/", "//evil.example/console/", "/api/v1/incidents"):
        page = client.get("/console/login", query_string={"next": target})
        resp = client.post(
            "/console/login",
            data={"username": "guest", "password": PASSWORD, "csrf": csrf_of(page.text), "next": target},
        )
        assert resp.status_code == 303 and resp.headers["Location"] == "/console/", target


def test_password_change_ends_other_sessions(app: Flask, users: dict[str, Role]) -> None:
    first, second = app.test_client(), app.test_client()
    assert login(first, "zhao.min") == 303 and login(second, "zhao.min") == 303
    token = csrf_of(first.get("/console/settings").text)
    wrong = first.post(
        "/console/settings", data={"csrf": token, "password": "nope", "new_password": "x" * 12}
    )
    assert wrong.status_code == 403
    short = first.post(
        "/console/settings", data={"csrf": token, "password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 400
    done = first.post(
        "/console/settings", data={"csrf": token, "password": PASSWORD, "new_password": "x" * 12}
    )
    assert done.status_code == 303
    assert first.get("/console/").status_code == 200
    assert second.get("/console/").status_code == 302
    assert login(second, "zhao.min") == 401 and login(second, "zhao.min", "x" * 12) == 303


def test_viewer_changes_nothing(client: FlaskClient, app: Flask, as_user: Callable[[str], str]) -> None:
    seed(client)
    inc = incident_id(client, "core-sw-1")
    token = as_user("guest")
    forms = {
        f"/console/incidents/{inc}/acknowledge": {},
        f"/console/incidents/{inc}/assign": {"to": "zhao.min"},
        f"/console/incidents/{inc}/note": {"text": "x"},
        "/console/kb/new": {"title": "t", "body": "b"},
        "/console/problems/scan": {},
        "/console/changes": {
            "title": "t",
            "cis": "core-sw-1",
            "starts": "2026-12-01T01:00",
            "ends": "2026-12-01T02:00",
        },
        "/console/changes/1/cancel": {},
        "/console/users": {"username": "mallory", "password": "x" * 12, "role": "admin"},
    }
    for url, form in forms.items():
        assert client.post(url, data={"csrf": token, **form}).status_code == 403, url
    with app.extensions["hospmon_router"].sessions() as session:
        actions = set(session.execute(select(AuditEntry.action)).scalars())
    assert actions == {"login"}


def test_rate_limit_holds_across_replicas(app: Flask, router: Router, users: dict[str, Role]) -> None:
    other = create_app(router)  # a second replica on the same store
    try:
        clients = [app.test_client(), other.test_client()]
        codes = [login(clients[n % 2], "zhao.min", "wrong password") for n in range(11)]
        assert codes[:10] == [401] * 10 and codes[10] == 429
        assert login(clients[0], "zhao.min") == 429 and login(clients[1], "zhao.min") == 429
        # Sessions are in the store too: a login on one replica is good on the other.
        assert login(clients[0], "guest") == 303
        cookie = clients[0].get_cookie("hospmon_console", path="/console")
        assert cookie is not None
        clients[1].set_cookie("hospmon_console", cookie.value, path="/console")
        assert clients[1].get("/console/").status_code == 200
    finally:
        other.extensions["hospmon_router"].engine.dispose()

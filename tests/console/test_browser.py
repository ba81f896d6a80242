"""A browser walk in headless Chromium, in Chinese and in English: login, board, incident, acknowledge,
resolve with notes, the knowledge search finds the fix, the statistics count it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from alertrouter.console.models import Role
from alertrouter.console.users import create_user
from tests.console.conftest import PASSWORD
from tests.router.conftest import API_TOKEN, TOKEN
from tests.router.payloads import alert, webhook
from tests.router.servers import serve

WORDS = {
    "zh": {
        "locale": "zh-CN",
        "fix": "更换核心交换机电源模块后恢复",
        "query": "电源模块",
        "acknowledged": "已确认",
        "resolved": "已解决",
        "board": "事件",
    },
    "en": {
        "locale": "en-US",
        "fix": "Replaced the failed power supply module",
        "query": "power supply",
        "acknowledged": "acknowledged",
        "resolved": "resolved",
        "board": "Incidents",
    },
}


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """Serve the app over real HTTP on a free loopback port."""
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_walk(browser: Browser, server: str, app: Flask, lang: str, tmp_path: Path) -> None:
    words = WORDS[lang]
    state = app.extensions["hospmon_router"]
    app.config["CONSOLE_REFRESH_SECONDS"] = 1
    with state.sessions() as session, session.begin():
        create_user("wang.lei", PASSWORD, Role.engineer, session=session, now=state.now(), rounds=4)
    now = dt.datetime.now(dt.UTC)
    body = webhook(alert("core-sw-1", now - dt.timedelta(minutes=3)))
    hook = requests.post(
        f"{server}/webhook/alertmanager", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert hook.status_code == 200
    inc = requests.get(
        f"{server}/api/v1/incidents?ci=core-sw-1",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    ).json()["incidents"][0]["id"]

    context = browser.new_context(locale=words["locale"])
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    try:
        page.goto(f"{server}/console/")
        page.fill("input[name=username]", "wang.lei")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login")
        expect(page.locator("h1")).to_contain_text(words["board"])
        # The board refreshes itself: an incident that opens now shows up without a reload.
        late = webhook(alert("fw-insurance-1", now, name="FirewallSessionsHigh", severity="warning"))
        requests.post(
            f"{server}/webhook/alertmanager",
            json=late,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).raise_for_status()
        expect(page.locator("#rows")).to_contain_text("fw-insurance-1")
        page.click(f"a.title[href='/console/incidents/{inc}']")
        page.click("#acknowledge")
        expect(page.locator("#status")).to_contain_text(words["acknowledged"])
        page.fill("#note-text", "on site" if lang == "en" else "已到机房")
        page.click("#add-note")
        expect(page.locator("#timeline")).to_contain_text("on site" if lang == "en" else "已到机房")
        page.click("#resolve-open")
        page.select_option("#cause", "hardware")
        page.fill("#fix", words["fix"])
        page.fill("#minutes", "40")
        page.click("#resolve")
        expect(page.locator("#status")).to_contain_text(words["resolved"])
        expect(page.locator("#resolution")).to_contain_text(words["fix"])

        page.click("nav a[href='/console/kb']")
        page.fill("#q", words["query"])
        page.click("#search")
        expect(page.locator("#articles a")).to_have_count(1)
        page.click("#articles a")
        expect(page.locator(".article-body")).to_contain_text(words["fix"])

        page.click("nav a[href='/console/stats']")
        expect(page.locator("#total")).to_have_text("2")
        expect(page.locator("#resolved-count")).to_have_text("1")
        expect(page.locator("#workload")).to_contain_text("wang.lei")
        page.click("nav a[href='/console/report']")
        expect(page.locator("#week-total")).to_have_text("2")
        page.pdf(path=str(tmp_path / "report.pdf"))
        assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    finally:
        context.close()

"""03:00, a phone: the network engineer on call gets an e-mail about the core switch, taps "acknowledge" in
it and confirms on a 390x844 screen without logging in; the timeline says who. The same link, a link past
its time and a forged one are refused with a clear page. The board and an incident fit phones too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.models import AuditEntry
from alertrouter.context import load_router
from alertrouter.migrate import upgrade
from alertrouter.worker.run import Worker
from tests.console.browser import PHONE, in_first_screen, no_sideways_scroll, shot
from tests.console.conftest import PASSWORD, seed
from tests.router.conftest import API_TOKEN, auth, email_channel
from tests.router.payloads import alert, webhook
from tests.router.servers import serve
from tests.router.smtp import SmtpServer
from tests.servers import free_port

NIGHT = dt.datetime(2026, 12, 1, 19, 0, tzinfo=dt.UTC)  # Wednesday 2 December, 03:00 in Shanghai
ON_CALL = "wang.lei"  # the network team's weekly rotation names him that week


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def paging(
    smtp: SmtpServer, write_config: Callable[..., Path], tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """The router with e-mail pages in Chinese, served on the port its links name."""
    port = free_port()
    config = write_config(
        f"sqlite:///{tmp_path / 'router.db'}",
        console_url=f"http://127.0.0.1:{port}",
        language="zh",
        channels=[email_channel(smtp)],
    )
    upgrade(f"sqlite:///{tmp_path / 'router.db'}")
    app = create_app(load_router(config))
    app.extensions["hospmon_router"].now = lambda: NIGHT
    with serve(app, port) as base:
        yield app, base
    app.extensions["hospmon_router"].engine.dispose()


def _page_mail(app: Flask, smtp: SmtpServer) -> EmailMessage:
    """Run the worker once (escalation step 1, then delivery) and return the one e-mail sent."""
    state = app.extensions["hospmon_router"]
    Worker(state.router, state.sessions, now=state.now, lock=state.write_lock).run_once()
    [mail] = smtp.mailbox.messages
    return mail


def test_acknowledge_from_the_mail_on_a_phone(
    paging: tuple[Flask, str], smtp: SmtpServer, browser: Browser, tmp_path: Path
) -> None:
    app, base = paging
    body = webhook(alert("core-sw-1", NIGHT - dt.timedelta(minutes=2), name="CIProbeFailed"))
    assert requests.post(f"{base}/webhook/alertmanager", json=body, headers=auth(), timeout=10).ok
    mail = _page_mail(app, smtp)
    assert mail["To"] == f"{ON_CALL}@hospital.example"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    lines = text.splitlines()
    # The text keeps its lines: subject, the links, why, the CI, who; and never "Owner: owner ...".
    assert lines[0].startswith("[P1] #1 core-sw-1：CIProbeFailed") and lines[0].count("CIProbeFailed") == 1
    assert re.fullmatch(rf"确认: {base}/a/[\w-]{{16}}", lines[2])
    assert any(line.startswith("优先级依据: P1") for line in lines)
    assert "配置项: core-sw-1 (交换机" in text and "Owner:" not in text
    assert "此配置项的历史故障:" in text and "<br>" in html
    ack = re.search(r'<a href="([^"]+)"[^>]*>确认</a>', html)
    assert ack is not None and ack.group(1) in text

    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    try:
        page.goto(ack.group(1))
        expect(page.locator("#acknowledge")).to_be_visible()
        in_first_screen(page, "#acknowledge")
        assert no_sideways_scroll(page)
        shot(page, tmp_path, "ack-link-390")
        page.tap("#acknowledge")
        expect(page.locator("#done")).to_be_visible()
        expect(page.locator("#status")).to_contain_text("已确认")
        expect(page.locator("#timeline li.acknowledged")).to_contain_text(ON_CALL)
        shot(page, tmp_path, "ack-done-390")
        # Used once: the same link, opened again, refuses clearly.
        again = page.goto(ack.group(1))
        assert again is not None and again.status == 410
        expect(page.locator("#refused")).to_contain_text("已被使用")
        forged = page.goto(ack.group(1)[:-1] + ("A" if not ack.group(1).endswith("A") else "B"))
        assert forged is not None and forged.status == 403
        # He resolves it through the API once the uplink is back: the view link now says the incident ended.
        ended = requests.post(
            f"{base}/api/v1/incidents/1/resolve", json={"note": "uplink reseated"}, headers=auth(API_TOKEN),
            timeout=10,
        )  # fmt: skip
        assert ended.ok
        view = re.search(rf"查看事件: ({re.escape(base)}/a/[\w-]{{16}})", text)
        assert view is not None
        closed = page.goto(view.group(1))
        assert closed is not None and closed.status == 409
        expect(page.locator("#refused")).to_contain_text("已结束")
        # The resolve link in the same e-mail, opened the next evening, has expired.
        resolve = re.search(rf"解决: ({re.escape(base)}/a/[\w-]{{16}})", text)
        assert resolve is not None
        app.extensions["hospmon_router"].now = lambda: NIGHT + dt.timedelta(hours=13)
        late = page.goto(resolve.group(1))
        assert late is not None and late.status == 410
        expect(page.locator("#refused")).to_contain_text("已过期")
        shot(page, tmp_path, "expired-390")
    finally:
        context.close()
    with app.extensions["hospmon_router"].sessions() as session:
        [entry] = session.execute(select(AuditEntry).where(AuditEntry.action == "acknowledge")).scalars()
        assert (entry.actor, entry.via, entry.target) == (ON_CALL, "link", "incident 1")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [360, 390, 414])
def test_board_incident_and_calendar_fit_a_phone(
    app: Flask, users: dict[str, object], browser: Browser, width: int, tmp_path: Path
) -> None:
    seed(app.test_client())
    with serve(app) as base:
        context = browser.new_context(
            viewport={"width": width, "height": 844}, locale="zh-CN", is_mobile=True
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            page.goto(f"{base}/console/login")
            page.fill("input[name=username]", "wang.lei")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login")
            expect(page.locator("#rows button.ack").first).to_be_visible()
            in_first_screen(page, "#rows button.ack")
            assert no_sideways_scroll(page)
            shot(page, tmp_path, f"board-{width}")
            page.click("#rows a.title >> nth=0")
            expect(page.locator("#acknowledge")).to_be_visible()
            in_first_screen(page, "#acknowledge")
            in_first_screen(page, "#resolve-open")
            assert no_sideways_scroll(page)
            shot(page, tmp_path, f"incident-{width}")
            for view in ("week", "month"):
                page.goto(f"{base}/console/oncall?team=network&view={view}")
                expect(page.locator(f"#cal-{view}")).to_be_visible()
                assert no_sideways_scroll(page)
                shot(page, tmp_path, f"calendar-{view}-{width}")
        finally:
            context.close()

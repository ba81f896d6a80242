"""Monday 7 December, a working day. At 09:30 the HIS database goes down while the clinics are full. The
applications engineer on call is paged at once; the wards are told nothing yet (a short blip needs no paper).
At 09:42, twelve minutes down in clinic hours, the HIS downtime playbook applies: the ward status page shows
it with the registrations an hour that cannot be made, and the outpatient head nurse, the pharmacy and
billing leads get an e-mail and an SMS; nobody else does. At 10:05 the HIS is back: the page says so and
lists the back-entry steps, and the same contacts hear it. On a Sunday night the same outage sets off nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.models import Role
from alertrouter.console.users import create_user
from alertrouter.context import load_router
from alertrouter.migrate import upgrade
from alertrouter.models import Incident
from alertrouter.worker.run import Worker
from tests.console.conftest import PASSWORD, csrf_of, login
from tests.router.conftest import REPO, auth, email_channel
from tests.router.payloads import alert, webhook
from tests.router.servers import MetricTarget
from tests.router.smtp import SmtpServer
from tests.servers import JsonReceiver as Receiver
from tests.servers import prometheus, promql, wait_for

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DOWN = dt.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)
WARD_MAIL = {"op-nurse@hospital.example", "op-pharmacy@hospital.example", "billing@hospital.example"}
WARD_PHONES = {"+86-555-0801", "+86-555-0802", "+86-555-0803"}
ON_CALL_APPS = "xu.fang@hospital.example"  # the applications team's daily rotation names her that Monday


@pytest.fixture(scope="module")
def live_rate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus scraping the registration count every second; yield its URL once it has a value."""
    # The HIS exporter's metric as Prometheus scrapes it: 40 registrations in the last 10 minutes.
    target = MetricTarget("hospmon_his_outpatient_registrations", 'clinic_type="general"')
    target.values["his-db"] = 40
    config = (
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: his, static_configs: [{{targets: ['127.0.0.1:{target.port}']}}]}}]\n"
    )
    try:
        with prometheus(config, tmp_path_factory.mktemp("prometheus")) as url:
            wait_for(lambda: promql(url, "hospmon_his_outpatient_registrations"), what="the first scrape")
            yield url
    finally:
        target.stop()


@dataclass
class Hospital:
    app: Flask
    client: FlaskClient
    smtp: SmtpServer
    sms: Receiver

    def at(self, moment: dt.datetime) -> None:
        self.app.extensions["hospmon_router"].now = lambda: moment.astimezone(dt.UTC)

    def worker(self) -> None:
        state = self.app.extensions["hospmon_router"]
        Worker(state.router, state.sessions, now=state.now, lock=state.write_lock).run_once()

    def mail_to(self) -> list[str]:
        return [str(m["To"]) for m in self.smtp.mailbox.messages]

    def notices(self, subject: str) -> list[EmailMessage]:
        return [m for m in self.smtp.mailbox.messages if str(m["Subject"]).startswith(subject)]

    def texts(self) -> list[dict[str, Any]]:
        return [body for _path, body in self.sms.posts]


@pytest.fixture
def hospital(
    tmp_path: Path, write_config: Callable[..., Path], request: pytest.FixtureRequest
) -> Iterator[Hospital]:
    smtp, sms = SmtpServer().start(), Receiver()
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    wards: dict[str, Any] = {"playbooks": str(REPO / "rules" / "wards")}
    if "live_rate" in request.fixturenames:
        wards["prometheus_url"] = request.getfixturevalue("live_rate")
    config = write_config(
        url,
        language="zh",
        console_url="http://router.hospital.example",
        wards=wards,
        channels=[
            email_channel(smtp),
            {"name": "sms", "kind": "sms", "url": f"http://127.0.0.1:{sms.port}/sms", "priorities": ["P1"]},
        ],
    )
    app = create_app(load_router(config))
    try:
        yield Hospital(app, app.test_client(), smtp, sms)
    finally:
        app.extensions["hospmon_router"].engine.dispose()
        smtp.stop()
        sms.stop()


def test_his_down_twelve_minutes_in_clinic_hours(hospital: Hospital, live_rate: str) -> None:
    h = hospital
    h.at(DOWN)
    firing = alert("his-db", DOWN.astimezone(dt.UTC))
    assert h.client.post("/webhook/alertmanager", json=webhook(firing), headers=auth()).status_code == 200
    h.at(DOWN + dt.timedelta(minutes=5))
    h.worker()
    assert set(h.mail_to()) == {ON_CALL_APPS}  # IT is paged at once; the wards are not told of a blip
    page = h.client.get("/status").text
    assert 'id="playbook-his"' not in page
    assert '门诊挂号</td><td class="state down">中断' in page

    h.at(DOWN + dt.timedelta(minutes=12))
    h.worker()
    notices = h.notices("医院信息系统已中断 12 分钟：请启用停机应急流程")
    assert sorted(str(m["To"]) for m in notices) == sorted(WARD_MAIL)  # the wards, and no one else
    assert not [m for m in h.smtp.mailbox.messages if str(m["To"]) in WARD_MAIL and m not in notices]
    body = notices[0].get_body(("plain",)).get_content()
    assert "纸质挂号单" in body and "信息中心值班电话 8001" in body
    ward_texts = [t for t in h.texts() if t["to"] in WARD_PHONES]
    assert {t["to"] for t in ward_texts} == WARD_PHONES
    assert all(len(t["message"]) <= 70 and "/status" in t["message"] for t in ward_texts)
    page = h.client.get("/status").text
    assert 'id="playbook-his"' in page and "HIS 停机应急预案" in page and "纸质处方" in page
    assert "约 240 人次门诊挂号无法在系统中办理" in page  # 40 in 10 minutes, from the exporter via Prometheus
    # Beds from the inventory's departments the HIS serves: ED 40, ICU 30, delivery 12, inpatient wards 900.
    assert "受影响：4 个病区，共 982 张床位。" in page
    h.worker()  # a second pass tells nobody twice
    assert len(h.notices("医院信息系统已中断")) == 3

    back = DOWN + dt.timedelta(minutes=35)
    h.at(back)
    resolved = alert("his-db", DOWN.astimezone(dt.UTC), status="resolved", ends=back.astimezone(dt.UTC))
    assert h.client.post("/webhook/alertmanager", json=webhook(resolved), headers=auth()).status_code == 200
    h.worker()
    page = h.client.get("/status").text
    assert 'id="playbook-his"' not in page and 'id="back-his"' in page
    assert "医院信息系统 10:05 起已恢复。" in page and "按纸质单据编号顺序补录" in page
    assert '门诊挂号</td><td class="state working">正常' in page
    recovered = h.notices("医院信息系统已恢复")
    assert sorted(str(m["To"]) for m in recovered) == sorted(WARD_MAIL)
    assert "按纸质单据编号顺序补录" in recovered[0].get_body(("plain",)).get_content()


def test_same_outage_on_a_sunday_night_sets_off_nothing(hospital: Hospital) -> None:
    h = hospital
    night = dt.datetime(2026, 12, 6, 21, 0, tzinfo=SHANGHAI)
    h.at(night)
    firing = alert("his-db", night.astimezone(dt.UTC))
    assert h.client.post("/webhook/alertmanager", json=webhook(firing), headers=auth()).status_code == 200
    h.at(night + dt.timedelta(minutes=40))
    h.worker()
    assert not set(h.mail_to()) & WARD_MAIL and not {t["to"] for t in h.texts()} & WARD_PHONES
    assert 'id="playbook-his"' not in h.client.get("/status").text


WARD_TOKEN = "ward-read-token-0123"


@pytest.fixture
def outside(tmp_path: Path, write_config: Callable[..., Path]) -> Iterator[FlaskClient]:
    """The status page with a clinical network and a read token; the client comes from elsewhere."""
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    (tmp_path / "status-token").write_text(WARD_TOKEN + "\n")
    wards = {"status_networks": ["10.20.0.0/16"], "status_token_file": "status-token"}
    app = create_app(load_router(write_config(url, language="zh", wards=wards)))
    try:
        yield _from(app, "192.168.8.8")
    finally:
        app.extensions["hospmon_router"].engine.dispose()


def test_status_page_needs_the_hospital_network_or_the_token(outside: FlaskClient) -> None:
    """The satellite clinic's nurse types the token once; the lobby display sends it as a bearer header."""
    ward_pc = outside.get("/status", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert ward_pc.status_code == 200 and 'id="wards"' in ward_pc.text  # the clinical network needs nothing
    form = outside.get("/status")
    assert form.status_code == 403 and 'name="token"' in form.text and 'id="wards"' not in form.text
    csrf = csrf_of(form.text)
    assert outside.post("/status", data={"token": WARD_TOKEN}).status_code == 400  # no CSRF token
    assert outside.post("/status", data={"token": "wrong", "csrf": csrf}).status_code == 401
    signed_in = outside.post("/status", data={"token": WARD_TOKEN, "csrf": csrf})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/status"
    assert outside.get("/status").status_code == 200  # remembered in a cookie from now on
    display = _from(outside.application, "192.168.8.9")
    assert display.get("/status", headers={"Authorization": f"Bearer {WARD_TOKEN}"}).status_code == 200
    assert display.get("/status", headers={"Authorization": "Bearer wrong"}).status_code == 403


@pytest.mark.parametrize(
    ("lang", "says"),
    [("zh", "不接受写在链接中的令牌"), ("en", "Tokens in links are not accepted")],
)
def test_a_token_in_the_link_is_refused_and_never_echoed(outside: FlaskClient, lang: str, says: str) -> None:
    """An old bookmark with ``?token=`` gets the form and why; the token in it opens nothing."""
    old_link = outside.get(f"/status?token={WARD_TOKEN}&lang={lang}")
    assert old_link.status_code == 400 and says in old_link.text and 'name="token"' in old_link.text
    assert WARD_TOKEN not in old_link.text
    assert not [c for c in old_link.headers.getlist("Set-Cookie") if c.startswith("hospmon_status=")]
    assert outside.get("/status").status_code == 403  # nothing was remembered either


def _signed_in(client: FlaskClient, token: str = WARD_TOKEN) -> str:
    """Sign a browser in through the form; return what its cookie holds."""
    posted = client.post("/status", data={"token": token, "csrf": csrf_of(client.get("/status").text)})
    assert posted.status_code == 303
    cookie = client.get_cookie("hospmon_status", path="/status")
    assert cookie is not None
    return cookie.value


def _at(client: FlaskClient, moment: dt.datetime) -> None:
    client.application.extensions["hospmon_router"].now = lambda: moment.astimezone(dt.UTC)


SHIFT = dt.datetime(2026, 12, 7, 7, 30, tzinfo=SHANGHAI)


def test_a_sign_in_lasts_one_shift_and_keeps_no_token(outside: FlaskClient) -> None:
    """The day nurse signs in at 07:30: the ward PC's cookie holds a grant, never the token, and at 19:30 the
    night nurse is asked for the token again. A cookie holding the token (as kept before) opens nothing."""
    _at(outside, SHIFT)
    grant = _signed_in(outside)
    assert WARD_TOKEN not in grant
    _at(outside, SHIFT + dt.timedelta(hours=11, minutes=59))
    assert outside.get("/status").status_code == 200
    _at(outside, SHIFT + dt.timedelta(hours=12))
    ended = outside.get("/status")
    assert ended.status_code == 403 and "登录已失效" in ended.text and 'name="token"' in ended.text
    old_pc = _from(outside.application, "192.168.8.10")
    old_pc.set_cookie("hospmon_status", WARD_TOKEN, path="/status")
    assert old_pc.get("/status").status_code == 403
    assert old_pc.get_cookie("hospmon_status", path="/status") is None  # and the browser forgets it


def test_a_copied_cookie_dies_when_the_token_is_rotated(outside: FlaskClient, tmp_path: Path) -> None:
    """A ward PC's cookie was copied (a shared PC, a browser sync); IT writes a new token and restarts the
    router: the copy opens nothing, while the nurse typing the new token gets in."""
    copied = _signed_in(outside)
    (tmp_path / "status-token").write_text("ward-read-token-rotated-4567\n")
    restarted = create_app(load_router(outside.application.extensions["hospmon_router"].router.settings.path))
    try:
        thief = _from(restarted, "192.168.8.11")
        thief.set_cookie("hospmon_status", copied, path="/status")
        assert thief.get("/status").status_code == 403
        nurse = _from(restarted, "192.168.8.12")
        _signed_in(nurse, "ward-read-token-rotated-4567")
        assert nurse.get("/status").status_code == 200
    finally:
        restarted.extensions["hospmon_router"].engine.dispose()


def test_guessing_the_token_stops_after_ten_tries(outside: FlaskClient) -> None:
    """Someone on the guest Wi-Fi guesses the token, in the form and as a display's header: the 11th try waits
    15 minutes, even with the right token, while the clinic PC next to it still signs in; every refusal is
    counted, never what was typed."""
    _at(outside, SHIFT)
    csrf = csrf_of(outside.get("/status").text)
    for n in range(5):
        assert outside.post("/status", data={"token": f"guess-{n}", "csrf": csrf}).status_code == 401
        assert outside.get("/status", headers={"Authorization": f"Bearer guess-{n}"}).status_code == 403
    eleventh = outside.post("/status?lang=en", data={"token": "guess-10", "csrf": csrf})
    assert eleventh.status_code == 429 and eleventh.headers["Retry-After"] == "900"
    assert "Too many wrong tokens" in eleventh.text and "guess-10" not in eleventh.text
    right = outside.post("/status", data={"token": WARD_TOKEN, "csrf": csrf})
    assert right.status_code == 429 and "输错令牌次数过多" in right.text
    assert outside.get("/status", headers={"Authorization": f"Bearer {WARD_TOKEN}"}).status_code == 429
    _signed_in(_from(outside.application, "192.168.8.20"))  # another address is not held up
    registry = outside.application.extensions["hospmon_router"].registry
    refused = "hospmon_router_status_signin_refused_total"
    assert registry.get_sample_value(refused, {"reason": "wrong_token"}) == 10
    assert registry.get_sample_value(refused, {"reason": "too_many_tries"}) == 3
    _at(outside, SHIFT + dt.timedelta(minutes=16))
    _signed_in(outside)  # the wait is over


def test_the_incident_page_counts_the_patients_affected(hospital: Hospital, live_rate: str) -> None:
    """The engineer opening the HIS database incident reads what the outage means in counts only: the wards
    and beds of the departments the HIS serves, and the registrations an hour lost. The ICU floor-5 switch's
    incident reaches one ward and no HIS: its line says so, and never lists departments or patients."""
    h = hospital
    h.at(DOWN)
    his, icu = alert("his-db", DOWN.astimezone(dt.UTC)), alert("acc-sw-icu-5f", DOWN.astimezone(dt.UTC))
    assert h.client.post("/webhook/alertmanager", json=webhook(his, icu), headers=auth()).status_code == 200
    state = h.app.extensions["hospmon_router"]
    with state.sessions() as session, session.begin():
        create_user("xu.fang", PASSWORD, Role.engineer, session=session, now=DOWN, rounds=4)
        ids = {ci: i for ci, i in session.execute(select(Incident.ci, Incident.id))}
    assert login(h.client, "xu.fang") == 303

    def impact(ci: str) -> str:
        page = h.client.get(f"/console/incidents/{ids[ci]}", headers={"Accept-Language": "zh-CN"}).text
        return page.split('<dd id="patient-impact">')[1].split("</dd>")[0]

    # ED 40 + ICU 30 + delivery 12 + inpatient wards 900 beds; 40 registrations in 10 minutes is 240 an hour.
    assert impact("his-db") == "4 个病区，共 982 张床位; 每小时约 240 人次门诊挂号"
    assert impact("acc-sw-icu-5f") == "1 个病区，共 30 张床位"


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client

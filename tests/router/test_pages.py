"""What a page says on each channel: a WeCom and a DingTalk markdown card with the action links, an SMS that
fits one message with its short acknowledge link."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.models import Cause
from alertrouter.console.resolutions import ProblemRule, resolve_with_cause
from alertrouter.context import load_router
from alertrouter.models import Incident
from alertrouter.notify.pages import SMS_LIMIT, incident_title
from alertrouter.worker.run import Worker
from tests.console.test_zh_console import data_words, english_words
from tests.router.conftest import API_TOKEN, auth, dba_gap_policy
from tests.router.payloads import alert, iso, webhook
from tests.router.servers import MetricTarget
from tests.servers import JsonReceiver as Receiver
from tests.servers import get_json, prometheus, wait_for

REPO = Path(__file__).resolve().parents[2]
MORNING = dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC)  # Monday 09:30 in Shanghai
BASE = "https://router.hospital.example"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def gap() -> bool:
    """Whether the policy leaves the DBA team with nobody on call from two days on (a test may say so)."""
    return False


@pytest.fixture
def paging_app(
    database_url: str, write_config: Callable[..., Path], tmp_path: Path, receiver: Receiver, gap: bool
) -> Iterator[Flask]:
    (tmp_path / "wecom-key").write_text("wecom-key-0123\n")
    (tmp_path / "ding-token").write_text("ding-token-0123\n")
    (tmp_path / "ding-secret").write_text("SECding0123\n")
    relay = f"http://127.0.0.1:{receiver.port}"
    policy = {"policy": str(dba_gap_policy(tmp_path, MORNING))} if gap else {}
    config = write_config(
        database_url,
        **policy,
        console_url=BASE,
        language="zh",
        channels=[
            {"name": "wecom", "kind": "wecom", "key_file": "wecom-key", "api_url": f"{relay}/wecom"},
            {
                "name": "dingtalk",
                "kind": "dingtalk",
                "key_file": "ding-token",
                "secret_file": "ding-secret",
                "api_url": f"{relay}/dingtalk",
            },
            {"name": "sms", "kind": "sms", "url": f"{relay}/sms", "priorities": ["P1", "P2"]},
            # The ward's own system takes the page in its own words, as docs/router.md's example writes it.
            {
                "name": "ward-hook",
                "kind": "webhook",
                "url": f"{relay}/hook",
                "priorities": ["P1"],
                "body": "{explanation}\n负责人: {owner}\n{step}\n{url}",
            },
            {"name": "noc", "kind": "webhook", "url": f"{relay}/noc", "priorities": ["P1"]},
        ],
    )
    app = create_app(load_router(config))
    app.extensions["hospmon_router"].now = lambda: MORNING
    yield app
    app.extensions["hospmon_router"].engine.dispose()


def _run_worker(app: Flask) -> None:
    state = app.extensions["hospmon_router"]
    Worker(state.router, state.sessions, now=state.now, lock=state.write_lock).run_once()


def _posts(receiver: Receiver) -> dict[str, tuple[dict[str, list[str]], Any]]:
    return {urlsplit(p).path.strip("/"): (parse_qs(urlsplit(p).query), body) for p, body in receiver.posts}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_chat_cards_and_sms_carry_the_links(paging_app: Flask, receiver: Receiver) -> None:
    """Monday 09:30 the HIS database stops answering; last Tuesday its tablespace filled and was extended:
    the cards carry that fix beside the links."""
    client = paging_app.test_client()
    state = paging_app.extensions["hospmon_router"]
    last_week = MORNING - dt.timedelta(days=6)
    state.now = lambda: last_week
    full = webhook(alert("his-db", last_week, name="TablespaceFull", severity="warning"))
    assert client.post("/webhook/alertmanager", json=full, headers=auth()).status_code == 200
    with state.sessions() as session, session.begin():
        resolve_with_cause(
            1, session=session, by="liu.yang", cause=Cause.capacity, fix="extended USERS by 20 GB",
            minutes=25, to_kb=False, now=last_week + dt.timedelta(minutes=40), rule=ProblemRule(),
        )  # fmt: skip
    state.now = lambda: MORNING
    body = webhook(alert("his-db", MORNING - dt.timedelta(minutes=3)))
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    _run_worker(paging_app)
    posts = _posts(receiver)
    wecom_query, wecom = posts["wecom"]
    assert wecom_query["key"] == ["wecom-key-0123"] and wecom["msgtype"] == "markdown"
    card = wecom["markdown"]["content"]
    assert card.startswith("### [P1] #2 his-db：TargetDown")
    assert "**此配置项的历史故障**" in card and "容量: extended USERS by 20 GB" in card
    for word in ("[确认](", "[解决](", "[查看事件]("):
        assert f"{word}{BASE}/a/" in card
    ding_query, ding = posts["dingtalk"]
    assert ding_query["access_token"] == ["ding-token-0123"]
    assert ding_query["sign"] and ding_query["timestamp"]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("[P1] #2")
    assert "[确认](" in ding["markdown"]["text"]
    _, sms = posts["sms"]
    assert len(sms["message"]) <= SMS_LIMIT and f" 确认 {BASE}/a/" in sms["message"]
    assert sms["message"].startswith("[P1]#2 his-db")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_switch_storm_pages_in_chinese(paging_app: Flask, receiver: Receiver) -> None:
    """Tuesday 03:00 the ICU and OR floor switches stop answering, the inpatient aggregation switch above
    them a moment later: the network on-call gets one page for the aggregation switch once its 20 s settle
    hold ends, saying why it waited. At 03:30 it is back but both floor switches still fail: after the 90 s
    release grace one card lists both. Every card and SMS reads in Chinese, data (CI ids, alert names,
    people, links) aside."""
    night = dt.datetime(2026, 12, 7, 19, 0, tzinfo=dt.UTC)  # Tuesday 03:00 in Shanghai
    state = paging_app.extensions["hospmon_router"]
    client = paging_app.test_client()

    def at(moment: dt.datetime, *alerts: dict[str, Any]) -> None:
        state.now = lambda: moment
        if alerts:
            posted = client.post("/webhook/alertmanager", json=webhook(*alerts), headers=auth())
            assert posted.status_code == 200
        _run_worker(paging_app)

    floors = [alert(ci, night, name="CIProbeFailed") for ci in ("acc-sw-icu-5f", "acc-sw-or-3f")]
    building = alert("agg-sw-inpatient", night + dt.timedelta(seconds=5), name="CIProbeFailed")
    at(night, *floors)
    at(night + dt.timedelta(seconds=5), building)
    at(night + dt.timedelta(seconds=25))  # the building switch's settle hold is over: it pages
    back = night + dt.timedelta(minutes=30)
    at(back, {**building, "status": "resolved", "endsAt": iso(back)})
    at(back + dt.timedelta(seconds=90))  # the floor switches' release grace is over: one card lists both
    cards = [body["markdown"]["content"] for path, body in receiver.posts if path.startswith("/wecom")]
    hooks = ("/sms", "/hook", "/noc")
    texts = cards + [body["message"] for path, body in receiver.posts if path.startswith(hooks)]
    texts += [body["title"] for path, body in receiver.posts if path.startswith(hooks[1:])]
    first, listing = cards
    hooks = [body["message"] for path, body in receiver.posts if path.startswith("/hook")]
    assert len(hooks) == 2 and "负责团队 网络组" in hooks[1]
    noc = [body["message"] for path, body in receiver.posts if path.startswith("/noc")]
    assert "科室: 重症医学科、手术室" in noc[1]
    assert first.startswith("### [P1] #3 agg-sw-inpatient") and "暂缓 20 秒" in first
    assert "agg-sw-inpatient（#3）恢复后仍有 2 个配置项故障" in listing and "仍在故障：" in listing
    assert "acc-sw-icu-5f" in listing and "acc-sw-or-3f" in listing
    # Where a CI stands is the inventory's text, as the hospital wrote it (English in the demo's).
    places = " ".join(c.location for c in state.router.inventory.cis.values())
    allowed = data_words(paging_app) | set(re.findall(r"\w+", places))
    english = {t: english_words(re.sub(r"https?://\S+", "", t), allowed) for t in texts}
    assert {t: w for t, w in english.items() if w} == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_handed_over_incident_says_who_handed_it_in_chinese(paging_app: Flask, receiver: Receiver) -> None:
    """Monday 09:30 the HIS database stops answering; Wang Lei hands it to Zhou Jing (DBA) through the API:
    her card says, in Chinese, that Wang Lei assigned it to her."""
    client = paging_app.test_client()
    body = webhook(alert("his-db", MORNING - dt.timedelta(minutes=3)))
    assert client.post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    _run_worker(paging_app)
    receiver.posts.clear()
    handed = client.post("/api/v1/incidents/1/assign", json={"to": "zhou.jing"}, headers=auth(API_TOKEN))
    assert handed.status_code == 200
    _run_worker(paging_app)
    card = _posts(receiver)["wecom"][1]["markdown"]["content"]
    assert "**已呼叫** zhou.jing (wang.lei 指派)" in card


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_holiday_page_names_the_holiday_in_chinese(paging_app: Flask, receiver: Receiver) -> None:
    """National Day, 1 October, 09:00: the outpatient building's floor-2 switch stops answering. The
    clinics are closed, and the card's reason names the holiday as the on-call engineer knows it."""
    national_day = dt.datetime(2026, 10, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    state = paging_app.extensions["hospmon_router"]
    state.now = lambda: national_day
    body = webhook(alert("acc-sw-op-2f", national_day, name="CIProbeFailed"))
    assert (
        paging_app.test_client().post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
    )
    state.now = lambda: national_day + dt.timedelta(seconds=20)  # after the settle hold
    _run_worker(paging_app)
    card = _posts(receiver)["wecom"][1]["markdown"]["content"]
    assert "节假日（国庆节）09:00" in card and "National" not in card


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("gap", [True])
def test_an_on_call_gap_is_paged_in_chinese(paging_app: Flask, receiver: Receiver) -> None:
    """Monday 09:30 the router finds nobody on call for the DBA team from Wednesday (the lead's leave): the
    card and its title say so in Chinese, the team by its Chinese name."""
    _run_worker(paging_app)
    card = _posts(receiver)["wecom"][1]["markdown"]["content"]
    assert card.startswith("### [P3] #1 数据库组 自 2026-12-09 09:30 起无人值班"), card


def _fired_by_prometheus(tmp_path: Path, rules: str, metric: str, labels: str, ci: str) -> dict[str, Any]:
    """Return the alert a real Prometheus fires from a shipped rule file on one scraped gauge."""
    target = MetricTarget(metric, labels)
    target.values[ci] = 900
    config = yaml.safe_dump(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(REPO / "rules" / rules)],
            "scrape_configs": [
                {"job_name": "lis", "static_configs": [{"targets": [f"127.0.0.1:{target.port}"]}]}
            ],
        }
    )
    try:
        with prometheus(config, tmp_path / "prom") as url:
            return wait_for(  # type: ignore[no-any-return]
                lambda: [
                    a for a in get_json(f"{url}/api/v1/alerts")["data"]["alerts"] if a["state"] == "firing"
                ],
                what="the alert to fire",
            )[0]
    finally:
        target.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_critical_value_waiting_is_paged_with_its_chinese_summary(
    paging_app: Flask, receiver: Receiver, tmp_path: Path
) -> None:
    """Monday 09:30 a chemistry critical value (危急值) has waited 15 minutes for a clinician: the shipped LIS
    rule fires in Prometheus and the lab engineer's card says what waits in Chinese, as the rule's
    `summary_zh` puts it; an English reader of the same incident reads the rule's English `summary`. A
    site's own rule with no `summary_zh` keeps its English summary in a Chinese title."""
    fired = _fired_by_prometheus(
        tmp_path, "pacs_lis.yml", "hospmon_lis_critical_value_oldest_pending_seconds",
        'service="lis",section="CHEM"', "lis-db",
    )  # fmt: skip
    assert fired["labels"]["alertname"] == "LisCriticalValueNotNotified"
    page = alert("lis-db", MORNING - dt.timedelta(minutes=1), name=fired["labels"]["alertname"])
    page["labels"], page["annotations"] = fired["labels"], fired["annotations"]
    own = alert("his-db", MORNING, name="SiteReportQueueStuck", severity="warning")
    own["annotations"] = {"summary": "Report queue of his-db is stuck"}
    client = paging_app.test_client()
    assert client.post("/webhook/alertmanager", json=webhook(page, own), headers=auth()).status_code == 200
    _run_worker(paging_app)
    card = next(b["markdown"]["content"] for p, b in receiver.posts if p.startswith("/wecom"))
    assert card.startswith("### [P1] #1 lis-db：LisCriticalValueNotNotified：CHEM 有危急值等待通知"), card
    assert "A critical value" not in card and "waits for notification" not in card
    state = paging_app.extensions["hospmon_router"]
    with state.sessions() as session:
        lis, site = (
            session.scalars(select(Incident).where(Incident.ci == c)).one() for c in ("lis-db", "his-db")
        )
        english = incident_title(lis, "en", state.router.inventory)
        assert (
            english
            == "LisCriticalValueNotNotified on lis-db: A critical value in CHEM waits for notification"
        )
        own_zh = incident_title(site, "zh", state.router.inventory)
        assert own_zh == "his-db：SiteReportQueueStuck：Report queue of his-db is stuck"

"""Board, incident, resolution with a root cause, knowledge base, problems, statistics, in both languages."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from alertrouter.console.kb import search
from tests.console.conftest import T0, incident_id, seed
from tests.router.payloads import alert


def _resolve(client: FlaskClient, token: str, inc: int, fix: str, cause: str = "hardware") -> None:
    resp = client.post(
        f"/console/incidents/{inc}/resolve",
        data={"csrf": token, "cause": cause, "fix": fix, "minutes": "45", "to_kb": "1"},
    )
    assert resp.status_code == 303, resp.text


def test_board_filters_and_language(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    seed(client, alert("core-sw-1", T0), alert("fw-insurance-1", T0, severity="warning"))
    as_user("guest")
    board = client.get("/console/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert "事件" in board and "core-sw-1" in board and "fw-insurance-1" in board
    english = client.get("/console/?priority=P3&priority=P4", headers={"Accept-Language": "en-US"}).text
    assert "Incidents" in english and "fw-insurance-1" in english and "core-sw-1" not in english
    rows = client.get("/console/board/rows?department=billing&service=insurance").text
    assert "fw-insurance-1" in rows and "core-sw-1" not in rows
    assert "core-sw-1" in client.get("/console/board/rows?team=network").text
    # The user's setting beats the browser.
    token = client.get("/console/settings").text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/console/settings", data={"csrf": token, "lang": "zh"}).status_code == 303
    assert "优先级" in client.get("/console/", headers={"Accept-Language": "en"}).text


def test_resolve_feeds_knowledge_history_problems_and_stats(
    client: FlaskClient, app: Flask, as_user: Callable[[str], str]
) -> None:
    state = app.extensions["hospmon_router"]
    fixes = [
        "更换核心交换机 3 号板卡，主备倒换恢复",
        "Reseated line card 3",
        "Replaced the supervisor engine",
    ]
    ids = []
    for n, fix in enumerate(fixes):
        start = T0 + dt.timedelta(days=n)
        state.now = lambda start=start: start + dt.timedelta(minutes=2)
        token = as_user("wang.lei")  # sessions last 12 hours; this is another day
        seed(client, alert("core-sw-1", start))
        inc = incident_id(client, "core-sw-1")
        ids.append(inc)
        state.now = lambda start=start: start + dt.timedelta(minutes=4)
        assert client.post(f"/console/incidents/{inc}/acknowledge", data={"csrf": token}).status_code == 303
        state.now = lambda start=start: start + dt.timedelta(minutes=30)
        _resolve(client, token, inc, fix)
    page = client.get(f"/console/incidents/{ids[-1]}").text
    # Earlier occurrences on the same CI, with how they were fixed; the suggested articles; the problem.
    assert fixes[0] in page and fixes[1] in page and 'id="resolution"' in page
    assert "Problem" in page or "问题" in page
    with state.sessions() as session:
        assert len(search("板卡", session=session)) == 1  # two characters: LIKE on the trigram index
        assert len(search("主备倒换恢复", session=session)) == 1  # trigram MATCH
        assert len(search("line card", session=session)) == 1
        assert len(search("LINE CARD", session=session)) == 1
        assert search("fibre", session=session) == []
    assert client.get("/console/kb?q=板卡").text.count("/console/kb/") >= 1
    problems = client.get("/console/problems").text
    assert "core-sw-1" in problems and '<td class="num">3</td>' in problems
    # Statistics count them: 3 incidents, MTTA 2 min, MTTR 28 min, 135 min spent by wang.lei.
    state.now = lambda: T0 + dt.timedelta(days=3)
    as_user("guest")
    stats = client.get("/console/stats?from=2026-11-30&to=2026-12-02").text
    assert 'id="total">3<' in stats and 'id="resolved-count">3<' in stats
    table = list(csv.reader(io.StringIO(client.get("/console/stats.csv?from=2026-11-30&to=2026-12-02").text)))
    network = next(r for r in table if r and r[0] == "team" and r[1] == "network")
    assert network[2:5] == ["3", "2.0", "2.0"] and network[6] == "28.0"
    work = next(r for r in table if r and r[0] == "workload" and r[1] == "wang.lei")
    assert work[2:] == ["3", "135", "0", "0"]
    report = client.get("/console/report?from=2026-11-30&to=2026-12-06").text
    assert 'id="week-total">3<' in report and "TargetDown" in report and "<svg" in report
    # Two of the three opened in business hours (Monday and Tuesday 09:00); availability of the network.
    with client.get("/console/static/console.css") as css:
        assert "@media print" in css.text


def test_resolved_by_alertmanager_still_takes_a_cause(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    seed(client, alert("his-db-1", T0))
    seed(client, alert("his-db-1", T0, status="resolved"))
    inc = incident_id(client, "his-db-1")
    token = as_user("zhao.min")
    _resolve(client, token, inc, "归档日志空间满，清理后恢复", cause="capacity")
    page = client.get(f"/console/incidents/{inc}").text
    assert "归档日志空间满" in page and "root cause capacity" in page


def test_chinese_article_written_directly_is_found(
    client: FlaskClient, as_user: Callable[[str], str]
) -> None:
    token = as_user("wang.lei")
    body = "医保前置机与医保中心专线中断时，先检查专线路由器，再联系运营商。"
    resp = client.post("/console/kb/new", data={"csrf": token, "title": "医保结算失败处理", "body": body})
    assert resp.status_code == 303
    for q in ("医保", "专线路由器", "医保 运营商", "结算失败"):
        assert "医保结算失败处理" in client.get("/console/kb", query_string={"q": q}).text, q
    assert "医保结算失败处理" not in client.get("/console/kb", query_string={"q": "影像"}).text


def test_oncall_and_handover(client: FlaskClient, as_user: Callable[[str], str]) -> None:
    seed(client)
    as_user("guest")
    oncall = client.get("/console/oncall").text.split('id="oncall"')[1].split("</table>")[0]
    assert oncall.count("<tr>") == 6
    # Network rotates weekly at 08:30 (li.qiang, zhao.min, wang.lei from 2026-01-05): someone takes over.
    network_row = oncall.split("<tr>")[2]
    assert "Network" in network_row and "08:30" in network_row
    handover = client.get("/console/handover").text
    assert "core-sw-1" in handover

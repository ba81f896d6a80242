"""The canary patient through the router: planted in an alert, found nowhere the router writes.

A LIS rule that copies the sample's patient into its labels and annotations fires in a real Alertmanager,
which hands it to the router (gunicorn, with its worker); the router opens the incident, pages the on-call by
e-mail (a real SMTP server) and the lab's webhook, and an engineer reads and resolves it in the console. Then
every router table, every e-mail, every webhook body, every console page, the API's answer, /metrics and the
router's log are searched for every form of the canary. With the guard switched off (test-only) the same
search finds the canary, so this test can fail.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests

from alertrouter.console.models import Role
from alertrouter.console.users import create_user
from alertrouter.db import make_engine, make_sessionmaker
from tests.canary import CANARY, leaks
from tests.router.conftest import API_TOKEN, router_config
from tests.router.servers import Process, start_alertmanager, start_router, wait_for
from tests.router.smtp import SmtpServer
from tests.servers import JsonReceiver

PASSWORD = "correct horse battery"


def canary_alert() -> dict[str, object]:
    """A LIS backlog alert as a careless rule would write it, with the patient in it."""
    now = dt.datetime.now(dt.UTC)
    return {
        "labels": {
            "alertname": "InterfaceMessageBacklog",
            "ci": "lis-app-1",
            "service": "lis",
            "severity": "critical",
            "patient": CANARY.name,
            "pid": CANARY.mrn,
            "idn": CANARY.resident_id,
            "ifAlias": f"{CANARY.name_latin} bedside",
        },
        "annotations": {
            "summary": f"critical value for {CANARY.name} ({CANARY.visit}) not delivered",
            "description": (
                f"call {CANARY.phone_dashed} about {CANARY.name_dicom}, ID {CANARY.resident_id_spaced}, "
                f"accession {CANARY.accession}, tel {CANARY.phone}"
            ),
        },
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
        "generatorURL": "http://prometheus:9090/graph?g0.expr="
        + quote_plus(f'lis_backlog{{pid="{CANARY.mrn}", patient="{CANARY.name}"}}'),
    }


class Chain:
    """Alertmanager, the router and its sinks for one run; what the router produced, by where it went."""

    def __init__(self, tmp: Path, guard_off: bool) -> None:
        self.smtp = SmtpServer().start()
        self.hook = JsonReceiver()
        self.db = tmp / "router.db"
        channels = [
            {
                "name": "email",
                "kind": "email",
                "smtp": {"host": "127.0.0.1", "port": self.smtp.port, "sender": "router@hospital.example"}
                | {"security": "none"},
            },
            {"name": "lab-hook", "kind": "webhook", "url": f"http://127.0.0.1:{self.hook.port}/lab"},
        ]
        config = router_config(
            tmp,
            f"sqlite:///{self.db}",
            channels=channels,
            worker={"enabled": True, "interval_seconds": 0.2},
            console_url="http://router.hospital.example",  # https would mark the cookies Secure
        )
        self.procs: list[Process] = []
        router, self.port = start_router(tmp, config, guard_off=guard_off)
        self.procs.append(router)
        self.log = router.log
        am, self.am_port = start_alertmanager(tmp, self.port, tmp / "token")
        self.procs.append(am)
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.smtp.stop()
        self.hook.stop()

    def api(self, path: str) -> requests.Response:
        resp = requests.get(
            f"{self.base}/api/v1{path}", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10
        )
        resp.raise_for_status()
        return resp

    def tables(self) -> str:
        """Every row of every table of the store, as text."""
        out = []
        with sqlite3.connect(self.db) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                out += [repr(row) for row in conn.execute(f'SELECT * FROM "{name}"')]
        # JSON columns keep non-ASCII as \\u escapes; search the decoded text too.
        text = "\n".join(out)
        return text + "\n" + text.encode().decode("unicode_escape", errors="ignore")


def console(chain: Chain, incident_id: int) -> dict[str, str]:
    """Log in as an engineer, resolve the incident into the knowledge base, and render the pages."""
    engine = make_engine(f"sqlite:///{chain.db}")
    with make_sessionmaker(engine)() as session, session.begin():
        create_user("wang.lei", PASSWORD, Role.admin, session=session, now=dt.datetime.now(dt.UTC), rounds=4)
    engine.dispose()
    web = requests.Session()
    base = f"{chain.base}/console"

    def csrf(page: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found
        return found.group(1)

    form = web.get(f"{base}/login", timeout=10).text
    login = {"username": "wang.lei", "password": PASSWORD, "csrf": csrf(form)}
    assert web.post(f"{base}/login", data=login, timeout=10).ok
    token = csrf(web.get(f"{base}/settings", timeout=10).text)
    resolve = {"csrf": token, "cause": "software", "fix": "restarted the interface engine", "minutes": "20"}
    assert web.post(f"{base}/incidents/{incident_id}/resolve", data=resolve | {"to_kb": "1"}, timeout=10).ok
    pages = {}
    for path in (
        "/",
        "/board/rows",
        f"/incidents/{incident_id}",
        "/stats",
        "/stats.csv",
        "/report",
        "/handover",
        "/kb",
        "/problems",
        "/audit",
    ):
        resp = web.get(base + path, timeout=10)
        assert resp.status_code == 200, path
        pages[path] = resp.text
    articles = re.findall(r'href="/console/kb/(\d+)"', pages["/kb"])
    assert articles, "resolving with to_kb=1 writes an article"
    pages["/kb/<article>"] = web.get(f"{base}/kb/{articles[0]}", timeout=10).text
    return pages


@pytest.fixture(params=["guard on", "guard off"])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Chain, bool]]:
    chain = Chain(tmp_path, guard_off=request.param == "guard off")
    try:
        yield chain, request.param == "guard on"
    finally:
        chain.stop()


@pytest.mark.slow
def test_canary_patient_leaves_no_trace_in_the_router(run: tuple[Chain, bool]) -> None:
    chain, guarded = run
    am = f"http://127.0.0.1:{chain.am_port}/api/v2/alerts"
    requests.post(am, json=[canary_alert()], timeout=10).raise_for_status()
    incidents = wait_for(lambda: chain.api("/incidents").json()["incidents"], "incident", log=chain.log)
    [incident] = incidents
    wait_for(
        lambda: chain.smtp.mailbox.messages and chain.hook.posts, "page by e-mail and webhook", log=chain.log
    )
    # The ward's message pasted into a note through the API: refused (nothing stored, nothing logged).
    note = requests.post(
        f"{chain.base}/api/v1/incidents/{incident['id']}/notes",
        json={"text": f"患者{CANARY.name} {CANARY.mrn} {CANARY.phone}"},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert note.status_code == (400 if guarded else 201), note.text
    found = {
        "store": chain.tables(),
        "note answer": note.text,
        "e-mail": "\n".join(m.as_string() + str(m.get_body()) for m in chain.smtp.mailbox.messages),
        "webhook": json.dumps(chain.hook.posts, ensure_ascii=False),
        "api": chain.api(f"/incidents/{incident['id']}").text,
        **{f"console {path}": html for path, html in console(chain, incident["id"]).items()},
        "metrics": requests.get(f"{chain.base}/metrics", timeout=10).text,
    }
    found["router log"] = chain.log.read_text(errors="replace")
    leaked = {where: leaks(text) for where, text in found.items() if leaks(text)}
    if guarded:
        assert leaked == {}
        page = found[f"console /incidents/{incident['id']}"]
        assert "[redacted]" in found["store"] and "[redacted]" in page and "[redacted]" in found["e-mail"]
        assert 'hospmon_router_phi_refused_total{rule="han_name"}' in found["metrics"]
    else:  # the same search, without the guard, finds the patient wherever the alert went
        assert {"store", "e-mail", "webhook", "api", f"console /incidents/{incident['id']}"} <= set(leaked)

"""The hospital's Alertmanager asks for basic auth (its own ``--web.config.file``); the router's password sits
in a file. At 02:10 the data-centre switch drops the HIS, LIS and EMR databases together; Alertmanager sends
the group's first alert only, and the worker fetches the other two with the router's credentials. The same
credentials set the night's change silence. Without them Alertmanager answers 401 and nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from alertrouter.alertmanager import Alertmanager
from alertrouter.app import create_app
from alertrouter.context import load_router
from alertrouter.models import Alert, Delivery
from alertrouter.worker.run import Worker
from tests.router.conftest import auth
from tests.router.payloads import alert, iso, webhook
from tests.servers import BackgroundHTTPServer, guarded_alertmanager

PASSWORD = "am-router-password-7f3c91"
AM_CONFIG = "route: {receiver: hospmon-router}\nreceivers: [{name: hospmon-router}]\n"


@pytest.fixture(scope="module")
def guarded_am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager that answers only the user ``router`` with `PASSWORD`."""
    with guarded_alertmanager(AM_CONFIG, tmp_path_factory.mktemp("am"), "router", PASSWORD) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_fetches_a_truncated_group_with_the_password_from_its_file(
    database_url: str, write_config: Callable[..., Path], tmp_path: Path, guarded_am: str
) -> None:
    am, creds = guarded_am, ("router", PASSWORD)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    group = [alert(ci, now, name="TargetDown") for ci in ("his-db", "lis-db", "emr-db")]
    posted = [
        {"labels": a["labels"], "annotations": a["annotations"], "startsAt": iso(now),
         "endsAt": iso(now + dt.timedelta(hours=1))}
        for a in group
    ]  # fmt: skip
    assert requests.get(f"{am}/api/v2/alerts", timeout=5).status_code == 401  # the guard is real
    requests.post(f"{am}/api/v2/alerts", json=posted, auth=creds, timeout=5).raise_for_status()
    (tmp_path / "am-password").write_text(PASSWORD + "\n")
    basic = {"username": "router", "password_file": "am-password"}
    router = load_router(write_config(database_url, alertmanager={"url": am, "basic_auth": basic}))
    app = create_app(router)
    state = app.extensions["hospmon_router"]
    try:
        body = webhook(group[0], truncated=2, groupLabels={"alertname": "TargetDown"})
        body["receiver"] = "hospmon-router"
        assert app.test_client().post("/webhook/alertmanager", json=body, headers=auth()).status_code == 200
        Worker(router, state.sessions).run_once()
        with state.sessions() as session:
            [delivery] = session.execute(select(Delivery)).scalars().all()
            cis = set(session.execute(select(Alert.ci)).scalars())
        assert (delivery.fetch_status, delivery.fetch_error) == ("done", "")
        assert {"his-db", "lis-db", "emr-db"} <= cis
        # The change silence for the switch's replacement goes the same way, with the same credentials.
        client = Alertmanager.from_settings(router.settings)
        assert client is not None and PASSWORD not in repr(client) and PASSWORD not in repr(router.settings)
        silence = client.create_silence(["core-sw-1"], now, now + dt.timedelta(hours=2), "zhou.jing", "swap")
        assert silence in {s["id"] for s in client.silences()}
    finally:
        state.engine.dispose()


def test_a_bearer_token_file_goes_to_a_proxy_in_front_of_alertmanager(
    tmp_path: Path, write_config: Callable[..., Path], guarded_am: str
) -> None:
    """Alertmanager cannot check a bearer token itself: a loopback proxy checks it and forwards with the
    basic auth Alertmanager asks, as a hospital's reverse proxy would."""
    token = "am-proxy-token-3b9e27d1"
    target = guarded_am

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {token}":
                self.send_response(401)
                self.end_headers()
                return
            upstream = requests.get(f"{target}{self.path}", auth=("router", PASSWORD), timeout=5)
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(upstream.content)

        def log_message(self, *args: object) -> None:
            pass

    proxy = BackgroundHTTPServer(Proxy)
    try:
        (tmp_path / "am-token").write_text(token + "\n")
        am = {"url": f"http://127.0.0.1:{proxy.port}", "bearer_token_file": "am-token"}
        client = Alertmanager.from_settings(
            load_router(write_config("sqlite:///x.db", alertmanager=am)).settings
        )
        assert client is not None and isinstance(client.silences(), list)
    finally:
        proxy.stop()

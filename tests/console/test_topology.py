"""The topology page, drawn from the demo inventory with live state from a real Prometheus.

A Monday morning in the network team: the inpatient aggregation switch's probe fails and the ICU access
switch does not answer at all; last night's discovery saw that switch patched into the outpatient
aggregation instead of the inpatient one (one link undeclared, one absent) and no link between the
inpatient aggregation and core switch 1 (declared, absent). The picture must show who is down and which
links differ from the wire, on a phone too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from alertrouter.app import create_app
from alertrouter.console.models import Role, User
from alertrouter.console.topology import cis_of
from alertrouter.console.users import create_user
from alertrouter.context import load_router
from alertrouter.wards.impact import registrations_per_hour
from demo.launcher import DEMO_INVENTORY
from exporters.core.server import ExporterApp, RunningServer
from exporters.inventory.drift import ObservationFile
from exporters.inventory.main import InventoryExporter
from hospmon.inventory import load_inventory
from tests.console.conftest import PASSWORD, login
from tests.router.servers import MetricTarget
from tests.servers import basic_auth_web_config, free_port, prometheus, promql, wait_for

# The page reads Prometheus and the inventory, not the router's database (beyond the login every console test
# makes on both databases): one database is enough here.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# (device, neighbours it sees by LLDP)
WIRE = {
    "core-sw-1": ["agg-sw-outpatient", "fw-intranet-1"],
    "core-sw-2": ["agg-sw-outpatient", "agg-sw-inpatient"],
    "agg-sw-outpatient": ["core-sw-1", "core-sw-2", "acc-sw-ed-1f", "acc-sw-icu-5f"],
    "agg-sw-inpatient": ["core-sw-2"],
    "acc-sw-ed-1f": ["agg-sw-outpatient"],
    "acc-sw-icu-5f": ["agg-sw-outpatient"],
}


def _observation(path: Path) -> Path:
    devices = [
        {"address": f"127.0.1.{n}", "sys_name": name, "lldp": True,
         "neighbours": [{"protocol": "lldp", "sys_name": peer} for peer in peers]}
        for n, (name, peers) in enumerate(WIRE.items(), 1)
    ]  # fmt: skip
    path.write_text(yaml.safe_dump({"observed_at": "2026-11-30T01:30:00Z", "scanned": ["127.0.1.0/24"],
                                    "devices": devices}))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def live_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus scraping the inventory exporter (with discovery's observation) and three devices."""
    folder = tmp_path_factory.mktemp("topology")
    exporter = InventoryExporter()
    exporter.observed = ObservationFile(_observation(folder / "observed.yml"))
    # The network exporter's probes of two switches: core switch 1 answers, the inpatient aggregation fails.
    devices = MetricTarget("hospmon_probe_success")
    devices.values.update({"core-sw-1": 1, "agg-sw-inpatient": 0})
    inventory = RunningServer(ExporterApp(exporter, DEMO_INVENTORY), "127.0.0.1", 0).start()

    def job(name: str, ci: str, address: str) -> dict[str, Any]:
        return {"job_name": name, "static_configs": [{"targets": [address], "labels": {"ci": ci}}]}

    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": "inventory", "honor_labels": True,
             "static_configs": [{"targets": [inventory.url.removeprefix("http://")]}]},
            {"job_name": "network", "static_configs": [{"targets": [f"127.0.0.1:{devices.port}"]}]},
            job("acc-sw-icu-5f", "acc-sw-icu-5f", f"127.0.0.1:{free_port()}"),  # nothing listens
        ],
    }  # fmt: skip
    try:
        with prometheus(yaml.safe_dump(config), folder / "prometheus") as url:
            wait_for(lambda: len(promql(url, "up")) == 3 and len(promql(url, "hospmon_probe_success")) == 2
                     and promql(url, "hospmon_topology_link_seen"),
                     what="Prometheus' first scrapes")  # fmt: skip
            yield url
    finally:
        inventory.stop()
        devices.stop()


@pytest.fixture
def console(database_url: str, write_config: Callable[..., Path]) -> Iterator[Callable[..., FlaskClient]]:
    """Return a function giving a logged-in client of a router with the given `prometheus` settings."""
    apps: list[Flask] = []

    def make(**prometheus_settings: object) -> FlaskClient:
        app = create_app(load_router(write_config(database_url, prometheus=prometheus_settings)))
        apps.append(app)
        state = app.extensions["hospmon_router"]
        with state.sessions() as session, session.begin():
            if session.scalar(select(User).where(User.username == "zhao.min")) is None:
                create_user("zhao.min", PASSWORD, Role.engineer, session=session, now=state.now(), rounds=4)
        client = app.test_client()
        assert login(client, "zhao.min") == 303
        return client

    yield make
    for app in apps:
        app.extensions["hospmon_router"].engine.dispose()


def _state(page: str, ci: str) -> str:
    found = re.search(rf'<g class="ci (\w+)" data-ci="{re.escape(ci)}">', page)
    assert found, f"{ci} is not in the picture"
    return found[1]


def _link(page: str, a: str, b: str) -> str:
    first, second = sorted((a, b))
    found = re.search(rf'<line class="link (\w+)" data-link="{first} {second}"', page)
    assert found, f"no link {first} -- {second}"
    return found[1]


def test_picture_shows_live_state_and_drift(
    live_prometheus: str, console: Callable[..., FlaskClient]
) -> None:
    client = console(url=live_prometheus)
    page = client.get("/console/topology?service=network").text
    assert _state(page, "core-sw-1") == "up"
    assert _state(page, "agg-sw-inpatient") == "down"  # scraped, but its probe fails
    assert _state(page, "acc-sw-icu-5f") == "down"  # not even scraped
    assert _state(page, "wlc-1") == "unknown"  # Prometheus knows nothing of it
    assert _link(page, "agg-sw-outpatient", "core-sw-1") == "seen"
    assert _link(page, "agg-sw-inpatient", "core-sw-1") == "absent"
    # The ICU's access switch was patched into the outpatient aggregation instead of the inpatient one.
    assert _link(page, "agg-sw-outpatient", "acc-sw-icu-5f") == "undeclared"
    assert _link(page, "agg-sw-inpatient", "acc-sw-icu-5f") == "absent"
    assert _link(page, "wlc-1", "core-sw-1") == "declared"  # nobody asked the controller
    drawn = len(cis_of(load_inventory(DEMO_INVENTORY), "network"))
    assert f"{drawn} configuration items: 1 up, 2 down, {drawn - 3} unknown." in page
    assert "3 links differ from the wire" in page
    down = page[page.index('<table id="down">') :]
    assert "agg-sw-inpatient" in down and "acc-sw-icu-5f" in down and "core-sw-1" not in down
    assert 'id="no-prometheus"' not in page and 'id="prometheus-error"' not in page
    # A phone scrolls the picture sideways rather than shrinking it to nothing.
    assert re.search(r'<div class="scroll"><svg class="topology"[^>]* viewBox="0 0 \d+ \d+"', page)
    # The HIS service's picture holds what HIS stands on, down to the core switches.
    his = client.get("/console/topology?service=his").text
    assert 'data-ci="his-web"' in his and 'data-ci="core-sw-1"' in his and 'data-ci="ct-1"' not in his


def test_picture_speaks_chinese(live_prometheus: str, console: Callable[..., FlaskClient]) -> None:
    client = console(url=live_prometheus)
    page = client.get("/console/topology?service=network", headers={"Accept-Language": "zh-CN"}).text
    assert "<h1>拓扑</h1>" in page and "条链路与实际网络不符" in page and "核心交换机" in page


def test_without_prometheus_the_page_says_so(console: Callable[..., FlaskClient]) -> None:
    page = console().get("/console/topology").text
    assert 'id="no-prometheus"' in page and "prometheus.url" in page
    assert (
        _state(page, "core-sw-1") == "unknown" and _link(page, "agg-sw-inpatient", "core-sw-1") == "declared"
    )
    # Prometheus configured but not answering: the page still draws, and says why the state is unknown.
    down = console(url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2).get("/console/topology").text
    assert 'id="prometheus-error"' in down and _state(down, "core-sw-1") == "unknown"


def test_unknown_service_is_refused(console: Callable[..., FlaskClient]) -> None:
    assert console().get("/console/topology?service=nope").status_code == 400


def test_a_guarded_prometheus_is_read_with_the_password_from_its_file(
    console: Callable[..., FlaskClient], write_config: Callable[..., Path], database_url: str, tmp_path: Path
) -> None:
    """The hospital's Prometheus asks for basic auth: the topology page and the ward figures read it with the
    password in a file; without it the page says Prometheus could not be read."""
    password = "prometheus-router-password-a81f"
    web = basic_auth_web_config("router", password)
    with prometheus("global: {scrape_interval: 1s}\n", tmp_path / "guarded", web_config=web) as url:
        (tmp_path / "prom-password").write_text(password + "\n")
        basic = {"username": "router", "password_file": "prom-password"}
        assert 'id="prometheus-error"' in console(url=url).get("/console/topology").text  # 401 without
        assert 'id="prometheus-error"' not in console(url=url, basic_auth=basic).get("/console/topology").text
        wards = {"prometheus_url": url, "prometheus_auth": {"basic_auth": basic},
                 "registrations_per_hour": "vector(40)"}  # fmt: skip
        assert registrations_per_hour(load_router(write_config(database_url, wards=wards))) == 40


def test_prometheus_url_with_credentials_is_refused(
    database_url: str, write_config: Callable[..., Path]
) -> None:
    from hospmon.config import ConfigError

    config = write_config(database_url, prometheus={"url": "http://monitor:secret@127.0.0.1:9090"})
    with pytest.raises(ConfigError) as refused:
        load_router(config)
    assert "prometheus" in str(refused.value) and "no credentials in the URL" in str(refused.value)
    assert "secret" not in str(refused.value)

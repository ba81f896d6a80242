"""Release records through the real chain: the interface engine reports its version to the middleware
exporter, Prometheus evaluates rules/releases.yml, Alertmanager calls the router.

The applications team, which owns the integration platform, upgrades the interface engine twice. The first
upgrade, 4.5.2 to 4.5.3, nobody recorded: the router opens a low-priority incident for that team. The
second, to 4.5.4, was recorded as a release in the console beforehand: the router links the change to it and
opens nothing.

rules/releases.yml compares with the day before; this test runs it with that day shortened to `DAY` seconds
(and its 6-hour look-back to `DAY` seconds), which is the only change made to the shipped rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from alertrouter.console import changes
from alertrouter.console.models import ReleaseObservation
from alertrouter.migrate import upgrade
from demo.integration import engine as simulated
from exporters.core.server import ExporterApp, RunningServer
from exporters.middleware.main import MiddlewareExporter
from tests.router.conftest import API_TOKEN, REPO, router_config
from tests.router.servers import start_alertmanager, start_router
from tests.servers import prometheus, promql, wait_for

CI = "esb-engine"  # the demo inventory's interface engine, owned by the apps team (service integration)
# The shortened day, in seconds: each upgrade waits about twice this for Prometheus to see the version before.
DAY = 5


def short_day_rules() -> str:
    """Return rules/releases.yml with its day and look-back shortened for a test that cannot wait a day."""
    text = (REPO / "rules" / "releases.yml").read_text(encoding="utf-8")
    assert text.count("[6h] offset 1d") == 1 and text.count("[1d6h:5m])") == 1
    short = f"[{DAY}s] offset {DAY}s"
    return text.replace("[6h] offset 1d", short).replace("[1d6h:5m])", f"[{2 * DAY}s:1s])")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The simulated engine, the middleware exporter, Prometheus, Alertmanager and the router."""
    password = "engine-api-secret"
    sim = simulated.Engine()
    server = simulated.serve(sim, password, "127.0.0.1", 0)
    sim_url = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "engine-password").write_text(password + "\n")
    config = {
        "targets": [{"target": sim_url, "modules": ["mirth"]}],
        "auths": {
            "engine": {"basic": {"username": "hospmon", "password_file": str(tmp_path / "engine-password")}}
        },
        "modules": {"mirth": {"kind": "mirth", "http": {"auth": "engine"}}},
    }
    (tmp_path / "middleware.yml").write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(db_url)
    procs = []
    try:
        exporter = RunningServer(
            ExporterApp(MiddlewareExporter(), tmp_path / "middleware.yml"), "127.0.0.1", 0
        )
        exporter.start()
        router, router_port = start_router(tmp_path, router_config(tmp_path, db_url))
        procs.append(router)
        am, am_port = start_alertmanager(tmp_path, router_port, tmp_path / "token")
        procs.append(am)
        (tmp_path / "releases.yml").write_text(short_day_rules())
        scrape = {
            "job_name": "middleware", "metrics_path": "/probe",
            "params": {"target": [sim_url], "module": ["mirth"]},
            "static_configs": [{"targets": [exporter.url.removeprefix("http://")],
                                "labels": {"ci": CI, "service": "integration"}}],
        }  # fmt: skip
        prom_config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(tmp_path / "releases.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [scrape],
        }
        with prometheus(yaml.safe_dump(prom_config), tmp_path / "prometheus") as prom_url:
            yield {"sim": sim, "prometheus": prom_url, "router": f"http://127.0.0.1:{router_port}",
                   "db": db_url, "log": router.log}  # fmt: skip
    finally:
        for proc in reversed(procs):
            proc.stop()
        exporter.stop()
        server.shutdown()
        server.server_close()


def _incidents(router: str) -> list[dict[str, Any]]:
    params = {"ci": CI, "status": "triggered,acknowledged,resolved"}
    resp = requests.get(f"{router}/api/v1/incidents", params=params, timeout=5,
                        headers={"Authorization": f"Bearer {API_TOKEN}"})  # fmt: skip
    resp.raise_for_status()
    found: list[dict[str, Any]] = resp.json()["incidents"]
    return found


def _settled_on(prom: str, version: str) -> None:
    """Wait until Prometheus has seen only `version` for the whole shortened day and look-back."""

    def settled() -> bool:
        span = 2 * DAY + 1  # the day before and its look-back, and the evaluation now
        seen = promql(prom, f"count_over_time(hospmon:software_version_info{{ci='{CI}'}}[{span}s])")
        return [s["metric"]["version"] for s in seen] == [version] and float(seen[0]["value"][1]) >= span - 2

    wait_for(settled, 60, f"Prometheus to have seen {version} for the whole comparison")


@pytest.mark.slow
def test_unrecorded_upgrade_pages_the_owner_and_a_recorded_one_links(chain: dict[str, Any]) -> None:
    sim, prom, router = chain["sim"], chain["prometheus"], chain["router"]
    _settled_on(prom, "4.5.2")
    sim.version = "4.5.3"  # nobody recorded this one
    [inc] = wait_for(lambda: _incidents(router), 60, "the incident of the unrecorded upgrade")
    assert inc["priority"] == "P4" and inc["team"] == "apps"
    assert "version changed without a release record" in inc["title"] and "4.5.2 -> 4.5.3" in inc["title"]

    # The next upgrade is recorded first, as a release of the integration service.
    now = dt.datetime.now(dt.UTC)
    sessions = sessionmaker(create_engine(chain["db"]))
    with sessions() as session, session.begin():
        changes.create_change(
            "Interface engine 4.5.4", session=session, cis=[CI], starts=now - dt.timedelta(minutes=5),
            ends=now + dt.timedelta(hours=1), recurrence="none", until=None, description="", author="chen",
            now=now, release=changes.Release("integration", "4.5.3", "4.5.4"),
        )  # fmt: skip
    _settled_on(prom, "4.5.3")
    sim.version = "4.5.4"

    def linked() -> list[ReleaseObservation]:
        with sessions() as session:
            return list(session.execute(select(ReleaseObservation)).scalars())

    [seen] = wait_for(linked, 60, "the upgrade linked to its release")
    assert (seen.ci, seen.component, seen.version_from, seen.version_to) == (
        CI, "integration_engine", "4.5.3", "4.5.4"
    )  # fmt: skip
    # Still the one incident: the recorded upgrade paged nobody.
    assert [i["id"] for i in _incidents(router)] == [inc["id"]]

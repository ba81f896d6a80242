"""Two HA pairs of Prometheus servers side by side, each server firing one alert at its own moment, into
one Alertmanager and the router: with the shipped snippet (deploy/scale/prometheus-shards.yml drops `replica`
from alerts) the database's alert is one alert and one incident; with `replica` kept, two alerts of one
incident. Either way one incident per CI, and it resolves when the fault does, with nothing left firing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from alertrouter.migrate import upgrade
from tests.router.conftest import API_TOKEN, router_config
from tests.router.servers import (
    MetricTarget,
    Process,
    start_alertmanager,
    start_prometheus,
    start_router,
    wait_for,
)

Getter = Callable[..., Any]
REPO = Path(__file__).resolve().parents[2]
PAIRS = {"his-db": True, "lis-db": False}
"""The CI each pair watches, and whether that pair drops `replica` from its alerts."""


def _snippet(replica: str, *, drop: bool) -> dict[str, Any]:
    """The shipped HA snippet's `global` and `alerting` for one server of the pair."""
    shipped = yaml.safe_load((REPO / "deploy" / "scale" / "prometheus-shards.yml").read_text())
    labels = {**shipped["global"]["external_labels"], "replica": replica}
    alerting = shipped["alerting"] if drop else {}
    return {"global": {"external_labels": labels}, "alerting": alerting}


def _firing(servers: list[str], ci: str) -> list[str] | None:
    """Return when each server's alert on `ci` went firing, once both have it firing."""
    starts = []
    for url in servers:
        alerts = requests.get(url, timeout=5).json()["data"]["alerts"]
        firing = [a["activeAt"] for a in alerts if a["state"] == "firing" and a["labels"].get("ci") == ci]
        if not firing:
            return None
        starts.append(firing[0])
    return starts


def _held(am_port: int, ci: str, copies: int) -> list[dict[str, Any]] | None:
    """Return Alertmanager's alerts on `ci` once it holds as many as expected."""
    alerts = requests.get(f"http://127.0.0.1:{am_port}/api/v2/alerts", timeout=5).json()
    found = [a for a in alerts if a["labels"].get("ci") == ci]
    return found if len(found) == copies else None


def _one_incident(get: Getter, am_port: int, servers: list[str], ci: str, drop: bool, log: Path) -> int:
    """Check that both servers fire `ci`'s alert at their own moments: one alert or two, of one incident."""
    starts = wait_for(lambda: _firing(servers, ci), f"{ci}'s alert firing on both servers")
    assert starts[0] < starts[1]
    held = wait_for(lambda: _held(am_port, ci, 1 if drop else 2), f"{ci}'s copies in Alertmanager", log=log)
    assert ["replica" in a["labels"] for a in held] == ([False] if drop else [True, True])
    [inc] = wait_for(
        lambda: [i for i in get("/incidents", ci=ci)["incidents"]
                 if len(get(f"/incidents/{i['id']}")["alerts"]) == len(held)] or None,
        f"{ci}'s incident with every copy", log=log,
    )  # fmt: skip
    return int(inc["id"])


def _resolved(get: Getter, incident: int, *, copies: int, log: Path) -> None:
    """Wait for the incident to resolve with every copy of its alert resolved."""
    detail = wait_for(
        lambda: (d := get(f"/incidents/{incident}"))["status"] == "resolved" and d,
        f"#{incident} resolved",
        log=log,
    )
    assert [a["status"] for a in detail["alerts"]] == ["resolved"] * copies


@pytest.mark.slow
def test_both_servers_of_a_pair_fire_one_incident_that_resolves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    config = router_config(tmp_path, url, worker={"enabled": False})
    procs: list[Process] = []
    targets = {ci: MetricTarget() for ci in PAIRS}  # one per pair, so each pair fires on its own CI only
    api = ""

    def get(path: str, **params: str) -> Any:
        resp = requests.get(f"{api}{path}", params=params, headers={"Authorization": f"Bearer {API_TOKEN}"},
                            timeout=5)  # fmt: skip
        resp.raise_for_status()
        return resp.json()

    try:
        router, rport = start_router(tmp_path, config)
        procs.append(router)
        api = f"http://127.0.0.1:{rport}/api/v1"
        am, am_port = start_alertmanager(tmp_path, rport, tmp_path / "token")
        procs.append(am)
        servers: dict[str, list[str]] = {ci: [] for ci in PAIRS}
        for n, replica in enumerate("ab"):
            if n:  # the second server of each pair starts later, so its copy of the alert starts later too
                time.sleep(2)
            for ci, drop in PAIRS.items():
                targets[ci].values[ci] = 0  # the database does not answer from the start
                proc, port = start_prometheus(
                    tmp_path / f"{ci}-{replica}",
                    targets[ci].port,
                    am_port,
                    snippet=_snippet(replica, drop=drop),
                )
                procs.append(proc)
                servers[ci].append(f"http://127.0.0.1:{port}/api/v1/alerts")
        incidents = {
            ci: _one_incident(get, am_port, servers[ci], ci, drop, router.log) for ci, drop in PAIRS.items()
        }
        for ci in PAIRS:
            targets[ci].values[ci] = 1
        for ci, drop in PAIRS.items():
            _resolved(get, incidents[ci], copies=1 if drop else 2, log=router.log)
        assert len(get("/incidents")["incidents"]) == len(PAIRS)
    finally:
        for proc in reversed(procs):
            proc.stop()
        for target in targets.values():
            target.stop()

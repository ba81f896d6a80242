"""An HA pair of Prometheus servers, both firing one alert at their own moments, into Alertmanager and the
router: with the shipped snippet (deploy/scale/prometheus-shards.yml drops `replica` from alerts) it is one
alert and one incident; with `replica` kept, two alerts of one incident. Either way one page, and the
incident resolves when the fault does, with nothing left firing."""

from __future__ import annotations

import time
from collections.abc import Iterator
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

REPO = Path(__file__).resolve().parents[2]
CI = "his-db"


@pytest.fixture
def target() -> Iterator[MetricTarget]:
    t = MetricTarget()
    yield t
    t.stop()


def _snippet(replica: str, *, drop: bool) -> dict[str, Any]:
    """The shipped HA snippet's `global` and `alerting` for one server of the pair."""
    shipped = yaml.safe_load((REPO / "deploy" / "scale" / "prometheus-shards.yml").read_text())
    labels = {**shipped["global"]["external_labels"], "replica": replica}
    alerting = shipped["alerting"] if drop else {}
    return {"global": {"external_labels": labels}, "alerting": alerting}


def _firing(servers: list[str]) -> list[str] | None:
    """Return when each server's alert went firing, once both have it firing."""
    starts = []
    for url in servers:
        alerts = requests.get(url, timeout=5).json()["data"]["alerts"]
        firing = [a["activeAt"] for a in alerts if a["state"] == "firing" and a["labels"].get("ci") == CI]
        if not firing:
            return None
        starts.append(firing[0])
    return starts


def _held(am_port: int, copies: int) -> list[dict[str, Any]] | None:
    """Return Alertmanager's alerts on the CI once it holds as many as expected."""
    alerts = requests.get(f"http://127.0.0.1:{am_port}/api/v2/alerts", timeout=5).json()
    found = [a for a in alerts if a["labels"].get("ci") == CI]
    return found if len(found) == copies else None


@pytest.mark.slow
@pytest.mark.parametrize("drop", [True, False], ids=["replica-dropped", "replica-kept"])
def test_both_servers_of_a_pair_fire_one_incident_that_resolves(
    tmp_path: Path, target: MetricTarget, drop: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    config = router_config(tmp_path, url, worker={"enabled": False})
    procs: list[Process] = []
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
        target.values[CI] = 0  # the database does not answer from the start
        servers = []
        for n, replica in enumerate("ab"):
            if n:  # the second server starts later, so its copy of the alert starts later too
                time.sleep(2)
            proc, port = start_prometheus(
                tmp_path / replica, target.port, am_port, snippet=_snippet(replica, drop=drop)
            )
            procs.append(proc)
            servers.append(f"http://127.0.0.1:{port}/api/v1/alerts")
        starts = wait_for(lambda: _firing(servers), "the alert firing on both servers")
        assert starts[0] < starts[1]
        held = wait_for(lambda: _held(am_port, 1 if drop else 2), "the copies in Alertmanager", log=am.log)
        assert ["replica" in a["labels"] for a in held] == ([False] if drop else [True, True])
        [inc] = wait_for(
            lambda: [i for i in get("/incidents", ci=CI)["incidents"]
                     if len(get(f"/incidents/{i['id']}")["alerts"]) == len(held)] or None,
            "the incident with every copy", log=router.log,
        )  # fmt: skip
        target.values[CI] = 1
        wait_for(
            lambda: get("/incidents", ci=CI, status="resolved")["incidents"], "the resolve", log=router.log
        )
        detail = get(f"/incidents/{inc['id']}")
        assert [a["status"] for a in detail["alerts"]] == ["resolved"] * len(held)
        assert len(get("/incidents")["incidents"]) == 1
    finally:
        for proc in reversed(procs):
            proc.stop()

"""Two HA pairs of Prometheus servers, each server with its own Alertmanager (no cluster, no gossip: a
hospital that runs one Alertmanager beside each Prometheus), all delivering to the router. The second server
of each pair starts after the first fired, so its copy of the alert starts later, and no Alertmanager ever
sees both copies to merge them: the router alone must. With the shipped snippet
(deploy/scale/prometheus-shards.yml drops `replica` from alerts) the database's alert is one alert with the
earliest start; with `replica` kept, two alerts. Either way one incident per CI, one page to its on-call, and
it resolves when the fault does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from alertrouter.context import load_router
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
from tests.router.smtp import SmtpServer

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


def _fired_at(url: str) -> dt.datetime | None:
    """Return when this Prometheus server's one alert went firing, once it has (to the ms it sends)."""
    alerts = requests.get(url, timeout=5).json()["data"]["alerts"]
    firing = [dt.datetime.fromisoformat(a["activeAt"]) for a in alerts if a["state"] == "firing"]
    return firing[0].replace(microsecond=firing[0].microsecond // 1000 * 1000) if firing else None


def _delivered(am_port: int, groups: int) -> bool:
    """Tell whether this Alertmanager delivered `groups` notifications to the router, none failed."""
    text = requests.get(f"http://127.0.0.1:{am_port}/metrics", timeout=5).text
    sent = {
        line.split("{")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("alertmanager_notifications_") and 'integration="webhook"' in line
    }
    assert sent.get("alertmanager_notifications_failed_total", 0) == 0, text
    return sent.get("alertmanager_notifications_total", 0) >= groups


def _mails(smtp: SmtpServer, incident: int) -> list[str]:
    """Return to whom the pages about an incident went."""
    return [str(m["To"]) for m in smtp.mailbox.messages if f"#{incident} " in str(m["Subject"])]


def _email_channel(smtp: SmtpServer) -> dict[str, Any]:
    """An e-mail channel for every priority, into the test's SMTP sink."""
    return {
        "name": "email",
        "kind": "email",
        "priorities": ["P1", "P2", "P3", "P4"],
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "router@hospital.example",
            "security": "none",
        },
    }


@pytest.mark.slow
def test_a_pair_with_one_alertmanager_each_fires_one_incident_paged_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    upgrade(url)
    smtp = SmtpServer().start()
    config = router_config(
        tmp_path, url, channels=[_email_channel(smtp)], worker={"enabled": True, "interval_seconds": 0.5}
    )
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
        fired: dict[str, list[dt.datetime]] = {ci: [] for ci in PAIRS}
        for replica in "ab":
            (tmp_path / f"am-{replica}").mkdir()
            am, am_port = start_alertmanager(tmp_path / f"am-{replica}", rport, tmp_path / "token")
            procs.append(am)
            servers = {}
            for ci, drop in PAIRS.items():
                targets[ci].values[ci] = 0  # the database does not answer from the start
                proc, port = start_prometheus(
                    tmp_path / f"{ci}-{replica}",
                    targets[ci].port,
                    am_port,
                    snippet=_snippet(replica, drop=drop),
                )
                procs.append(proc)
                servers[ci] = f"http://127.0.0.1:{port}/api/v1/alerts"
            for ci, server in servers.items():
                fired[ci].append(wait_for(lambda s=server: _fired_at(s), f"{ci}'s alert on {replica}"))
            # b starts only once a's copies reached the router, so b's copies start later and arrive second.
            wait_for(lambda p=am_port: _delivered(p, len(PAIRS)), f"Alertmanager {replica}'s deliveries",
                     log=am.log)  # fmt: skip
        for ci, drop in PAIRS.items():
            assert fired[ci][0] < fired[ci][1]
            [inc] = get("/incidents", ci=ci)["incidents"]
            alerts = get(f"/incidents/{inc['id']}")["alerts"]
            # One alert with the earliest start, as one Alertmanager holding both copies would have sent it.
            starts = sorted(dt.datetime.fromisoformat(a["starts_at"]) for a in alerts)
            assert starts == ([fired[ci][0]] if drop else fired[ci]), (ci, alerts)
            # Paged before the fault clears: a page still queued at the resolve is cancelled (bug 7).
            wait_for(lambda i=inc["id"]: _mails(smtp, i), f"{ci}'s page", log=router.log)
        for ci in PAIRS:
            targets[ci].values[ci] = 1
        inventory = load_router(config).inventory
        for ci, drop in PAIRS.items():
            [inc] = get("/incidents", ci=ci)["incidents"]
            detail = wait_for(
                lambda i=inc["id"]: (d := get(f"/incidents/{i}"))["status"] == "resolved" and d,
                f"{ci}'s incident resolved", log=router.log,
            )  # fmt: skip
            assert [a["status"] for a in detail["alerts"]] == ["resolved"] * (1 if drop else 2)
            paged = [e for e in detail["timeline"] if e["kind"] == "paged"]
            team = inventory.teams[inc["team"]]
            address = {m.id: m.contacts.email for m in team.members}[inc["assignee"]]
            assert len(paged) == 1 and _mails(smtp, inc["id"]) == [address], (ci, detail["timeline"])
        assert len(get("/incidents")["incidents"]) == len(PAIRS)
    finally:
        for proc in reversed(procs):
            proc.stop()
        for target in targets.values():
            target.stop()
        smtp.stop()

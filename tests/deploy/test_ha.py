"""Past one machine, the alert path: a two-node Alertmanager gossip cluster sends through HAProxy
(deploy/scale/haproxy-router.cfg) to two router replicas on one PostgreSQL. Every alert becomes exactly one
incident, and none is lost when a replica is killed mid-stream."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import yaml

from demo.servers.postgres import PostgresServer
from demo.servers.process import terminate
from tests.router.servers import shipped_alertmanager_config
from tests.servers import PACKAGES, free_port, process, require, throwaway_postgres, wait_for

REPO = Path(__file__).resolve().parents[2]
TOKEN = "ha-test-webhook-token"
ALERTS = 40
PACKAGES.setdefault("haproxy", "haproxy")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = throwaway_postgres()
    try:
        yield server
    finally:
        server.stop()


def _router(workdir: Path, name: str, port: int) -> subprocess.Popen[bytes]:
    """A router replica in its own process group, so that killing it kills its gunicorn workers too."""
    with (workdir / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "alertrouter.main", f"--config.file={workdir / 'router.yml'}",
             "--db.upgrade", f"--web.listen-address=127.0.0.1:{port}"],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip


def _haproxy_config(lb: int, routers: list[int]) -> str:
    """deploy/scale/haproxy-router.cfg on this test's ports."""
    text = (REPO / "deploy" / "scale" / "haproxy-router.cfg").read_text()
    text = text.replace("127.0.0.1:19180", f"127.0.0.1:{lb}")
    for demo, port in zip(("19181", "19182"), routers, strict=True):
        text = text.replace(f"127.0.0.1:{demo}", f"127.0.0.1:{port}")
    return text


def _alert(n: int) -> dict[str, Any]:
    """One alert, built once and sent alike to every Alertmanager, as Prometheus does.

    Alertmanager keys an alert by fingerprint and start: sent with two start times, it is two alerts to both
    Alertmanager and the router, and under load (gossip later than --cluster.peer-timeout) both members
    rightly deliver their own. That is what "an alert was stored twice" was: the test's doing, not a double.
    """
    now = dt.datetime.now(dt.UTC)
    return {
        "labels": {"alertname": "HATestPrinterDown", "ci": f"ha-printer-{n:03d}", "service": "his",
                   "severity": "warning"},
        "annotations": {"summary": f"Label printer {n} does not answer", "description": "HA test."},
        "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=30)).isoformat(),
    }  # fmt: skip


def _delivered(base: str) -> float:
    body = requests.get(f"{base}/metrics", timeout=5).text
    return sum(
        float(line.split()[-1])
        for line in body.splitlines()
        if line.startswith('hospmon_router_webhook_requests_total{code="200"}')
    )


def test_alertmanager_cluster_to_two_routers_one_incident_per_alert_nothing_lost(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    haproxy = require("haproxy")
    am_binary = require("prometheus-alertmanager")
    postgres.execute("CREATE DATABASE hospmon_ha")
    (tmp_path / "webhook-token").write_text(TOKEN + "\n")
    router_config = {
        "inventory": str(REPO / "demo" / "inventory"),
        "policy": str(REPO / "rules" / "routing" / "policy.yml"),
        "database": {"url": postgres.url("hospmon_ha")},
        "webhook_auth": {"bearer_token_file": "webhook-token"},
        "worker": {"enabled": False},
    }
    (tmp_path / "router.yml").write_text(yaml.safe_dump(router_config))
    ports = [free_port(), free_port()]
    lb = free_port()
    routers: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        for name, port in zip(("router-a", "router-b"), ports, strict=True):
            proc = _router(tmp_path, name, port)
            stack.callback(terminate, proc)
            routers.append(proc)
            # One after the other: the first applies the migrations, the second finds the schema current.
            wait_for(partial(_ready, port, proc), 60, name)
            assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
        (tmp_path / "haproxy.cfg").write_text(_haproxy_config(lb, ports))
        stack.enter_context(
            process([haproxy, "-db", "-f", str(tmp_path / "haproxy.cfg")],
                    f"http://127.0.0.1:{lb}/-/ready", tmp_path / "haproxy.log")
        )  # fmt: skip
        gossip = [free_port(), free_port()]
        ams = []
        for i in range(2):
            workdir = tmp_path / f"am{i}"
            workdir.mkdir()
            hook = f"http://127.0.0.1:{lb}/webhook/alertmanager"
            config = shipped_alertmanager_config(
                hook, tmp_path / "webhook-token", group_wait="1s", group_interval="1s"
            )
            (workdir / "alertmanager.yml").write_text(config)
            port = free_port()
            argv = [
                am_binary, "--config.file=alertmanager.yml", f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}", f"--cluster.listen-address=127.0.0.1:{gossip[i]}",
                f"--cluster.peer=127.0.0.1:{gossip[1 - i]}", "--cluster.peer-timeout=1s",
                "--cluster.gossip-interval=50ms", "--cluster.pushpull-interval=1s",
            ]  # fmt: skip
            stack.enter_context(
                process(argv, f"http://127.0.0.1:{port}/-/ready", workdir / "am.log", cwd=workdir)
            )
            ams.append(f"http://127.0.0.1:{port}")

        def clustered() -> bool:
            return all(len(requests.get(f"{am}/api/v2/status", timeout=2).json()["cluster"]["peers"]) == 2
                       for am in ams)  # fmt: skip

        wait_for(clustered, 30, "the two Alertmanagers to gossip")

        # Stream the alerts to both Alertmanagers, as Prometheus sends to every member of a cluster; kill
        # router-a (SIGKILL, with its workers) once it has taken deliveries, half-way through the stream.
        killed_at = None
        a_url = f"http://127.0.0.1:{ports[0]}"
        for n in range(ALERTS):
            alert = _alert(n)
            for am in ams:
                requests.post(f"{am}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()
            if n == ALERTS // 2:
                wait_for(lambda: _delivered(a_url) > 0, 30, "router-a to take deliveries before it is killed")
                os.killpg(routers[0].pid, signal.SIGKILL)
                routers[0].wait(10)
                killed_at = _count(postgres, "alerts")
            time.sleep(0.1)  # paces the stream, as alerts arrive over time
        assert killed_at is not None and killed_at < ALERTS, "router-a was killed after the stream, not in it"

        def stored() -> tuple[int, int, int, int] | None:
            with psycopg.connect(postgres.dsn("hospmon_ha")) as conn:
                alerts, distinct, received = conn.execute(
                    "SELECT count(*), count(DISTINCT fingerprint), coalesce(sum(receive_count), 0)"
                    " FROM alerts"
                ).fetchone() or (0, 0, 0)
                incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()
            got = (alerts, distinct, received, incidents[0] if incidents else 0)
            return got if distinct >= ALERTS else None

        alerts, distinct, received, incidents = wait_for(stored, 90, f"all {ALERTS} alerts in the store")
        assert distinct == ALERTS, "nothing lost"
        assert alerts == ALERTS, "nothing doubled: one row per alert, repeats counted on it"
        assert incidents == ALERTS, "one incident per alert"
        with psycopg.connect(postgres.dsn("hospmon_ha")) as conn:
            cis = {row[0] for row in conn.execute("SELECT ci FROM incidents")}
        assert cis == {f"ha-printer-{n:03d}" for n in range(ALERTS)}
        assert _delivered(f"http://127.0.0.1:{ports[1]}") > 0
        print(
            f"\n{ALERTS} alerts, {incidents} incidents, {killed_at} stored when router-a was killed;"
            f" deliveries absorbed as repeats: {received - alerts}"
        )


def _count(postgres: PostgresServer, table: str) -> int:
    with psycopg.connect(postgres.dsn("hospmon_ha")) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _ready(port: int, proc: subprocess.Popen[bytes]) -> bool:
    """True once the replica answers ready; also True when it has exited, for the caller to report."""
    if proc.poll() is not None:
        return True
    try:
        return requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok
    except requests.RequestException:
        return False

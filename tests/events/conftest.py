"""The event chain for the tests: hospmon-event-receiver -> a real Alertmanager -> the router (SQLite).

Each simulated device sends from its own loopback address (net-snmp's ``--clientaddr``, a bound socket), and
the receiver's `sources` map those addresses to demo inventory CIs, as a hospital maps management
addresses. `logger` cannot choose its source address: what it sends comes from 127.0.0.1, the ED switch.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exporters.core.server import ExporterApp, RunningServer
from exporters.events.main import EventReceiver
from tests.router.servers import Process, start_alertmanager, start_router, wait_for
from tests.servers import require

REPO = Path(__file__).resolve().parents[2]
TOKEN = "webhook-token-events-0123456789"
API_TOKEN = "api-token-events-0123456789abc"
COMMUNITY = "hospital-lab-community"
AUTH_KEY, PRIV_KEY = "trap-auth-passphrase", "trap-priv-passphrase"
ENGINE_ID = "0x80001f8880aabbccdd01"
# Who sends from where (all on loopback): the receiver's `sources`.
SENDERS = {
    "127.0.0.1": "acc-sw-ed-1f",  # logger: syslog over TCP and UDP
    "127.0.0.2": "acc-sw-icu-5f",  # snmptrap v3 authPriv
    "127.0.0.3": "ups-mr1-01",  # snmpinform v2c and v3
    "127.0.0.4": "acc-sw-rad-1f",  # snmptrap v1 (its agent address, forwarded by TRAP_RELAY)
    "127.0.0.5": "ups-mr1-02",  # snmptrap v2c (its snmpTrapAddress.0, forwarded by TRAP_RELAY)
    "127.0.0.6": "agg-sw-inpatient",  # the flapping port
    "127.0.0.7": "acc-sw-or-3f",  # while Alertmanager is down
    "127.0.0.8": "acc-sw-lab-2f",  # while Alertmanager is down
    "127.0.0.9": "db-his-node1",  # syslog over TCP, newline framing
}
TRAP_RELAY = "127.0.0.99"  # a trap forwarder (snmp.relays): its traps map by the address they carry


def free_udp_port() -> int:
    """Return a UDP port on 127.0.0.1 that nothing is bound to now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_tcp_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Chain:
    """The running chain and how to look into each part."""

    workdir: Path
    receiver: RunningServer
    router_port: int
    am_port: int
    am: Process
    trap_port: int
    syslog_udp: int
    syslog_tcp: int

    @property
    def exporter(self) -> EventReceiver:
        """Return the running event receiver."""
        exporter = self.receiver.app.exporter
        assert isinstance(exporter, EventReceiver)
        return exporter

    def snmp(self, tool: str, source: str, options: list[str], notification: list[str]) -> None:
        """Run net-snmp's `tool` (snmptrap, snmpinform) from a loopback `source` address to the receiver."""
        argv = [require(tool), f"--clientaddr={source}", "-r", "2", "-t", "2", *options]
        argv += [f"127.0.0.1:{self.trap_port}", *notification]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr

    def incidents(self, ci: str, **params: str) -> list[dict[str, Any]]:
        """Return the router's incidents for a CI."""
        resp = requests.get(
            f"http://127.0.0.1:{self.router_port}/api/v1/incidents",
            params={"ci": ci, **params},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=5,
        )
        resp.raise_for_status()
        found: list[dict[str, Any]] = resp.json()["incidents"]
        return found

    def am_alerts(self, ci: str | None = None) -> list[dict[str, Any]]:
        """Return Alertmanager's active alerts, for one CI when given."""
        resp = requests.get(f"http://127.0.0.1:{self.am_port}/api/v2/alerts", timeout=5)
        resp.raise_for_status()
        alerts: list[dict[str, Any]] = resp.json()
        return [a for a in alerts if ci is None or a["labels"].get("ci") == ci]

    def metric(self, name: str, **labels: str) -> float:
        """Return one sample of the receiver's /metrics (0 when absent)."""
        text = requests.get(f"{self.receiver.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0

    def stop_alertmanager(self) -> None:
        """Stop Alertmanager (its state on disk stays)."""
        self.am.stop()

    def start_alertmanager(self) -> None:
        """Start Alertmanager again on the same port."""
        self.am, _ = start_alertmanager(self.workdir, self.router_port, self.workdir / "token", self.am_port)


def _router_config(workdir: Path) -> Path:
    (workdir / "token").write_text(TOKEN + "\n")
    (workdir / "api-tokens").write_text(f"wang.lei {API_TOKEN}\n")
    config = {
        "inventory": str(REPO / "demo" / "inventory"),
        "policy": str(REPO / "rules" / "routing" / "policy.yml"),
        "database": {"url": f"sqlite:///{workdir / 'router.db'}", "busy_timeout_ms": 2000},
        "webhook_auth": {"bearer_token_file": "token"},
        "api_tokens_file": "api-tokens",
        "worker": {"enabled": False},
    }
    path = workdir / "router.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def receiver_config(workdir: Path, am_port: int, **overrides: Any) -> dict[str, Any]:
    """Return the receiver config the chain runs (free ports, secrets in files under `workdir`)."""
    for name, value in (("community", COMMUNITY), ("trap-auth", AUTH_KEY), ("trap-priv", PRIV_KEY)):
        (workdir / name).write_text(value + "\n")
    config: dict[str, Any] = {
        "inventory": str(REPO / "demo" / "inventory"),
        "rules": [str(REPO / "rules" / "events")],
        "snmp": {
            "listen": f"127.0.0.1:{free_udp_port()}",
            "communities": [{"name": "lab", "community_file": str(workdir / "community")}],
            "users": [
                {
                    "username": "hospmon-trap",
                    "auth_protocol": "SHA256",
                    "password_file": str(workdir / "trap-auth"),
                    "priv_protocol": "AES",
                    "priv_password_file": str(workdir / "trap-priv"),
                    "engine_ids": [ENGINE_ID],
                }
            ],
            "relays": [TRAP_RELAY],
        },
        "syslog": {"udp": f"127.0.0.1:{free_udp_port()}", "tcp": f"127.0.0.1:{free_tcp_port()}"},
        "alertmanager": {"urls": [f"http://127.0.0.1:{am_port}"], "resend_seconds": 2, "timeout_seconds": 2},
        "queue": {"directory": str(workdir / "queue")},
        "sources": [{"address": a, "ci": ci} for a, ci in SENDERS.items()],
        "defaults": {"flap_hold_seconds": 3, "flush_seconds": 0.2},
    }
    config.update(overrides)
    return config


def start_receiver(path: Path) -> RunningServer:
    """Run hospmon-event-receiver in this process, as its command would: HTTP server, then listeners."""
    app = ExporterApp(EventReceiver(), path)
    server = RunningServer(app, "127.0.0.1", 0).start()
    app.exporter.start(lambda: app.config)
    return server


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """Start the router, Alertmanager and the receiver once for a test module."""
    workdir = tmp_path_factory.mktemp("events")
    with contextlib.ExitStack() as stack:
        router, router_port = start_router(workdir, _router_config(workdir))
        stack.callback(router.stop)
        am, am_port = start_alertmanager(workdir, router_port, workdir / "token")
        stack.callback(am.stop)
        config = receiver_config(workdir, am_port)
        path = workdir / "events.yml"
        path.write_text(yaml.safe_dump(config))
        receiver = start_receiver(path)
        ports = [int(config["snmp"]["listen"].rsplit(":", 1)[1])]
        ports += [int(config["syslog"][k].rsplit(":", 1)[1]) for k in ("udp", "tcp")]
        found = Chain(workdir, receiver, router_port, am_port, am, *ports)
        stack.callback(lambda: found.am.stop())  # the one running now, after a restart
        stack.callback(receiver.stop)
        yield found


def wait(check: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll until `check` returns something truthy."""
    return wait_for(check, what, timeout=timeout)

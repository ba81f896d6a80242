"""Debian's RabbitMQ on loopback, on free ports, in its own folder: its Prometheus plugin with per-queue
metrics, its own epmd, durable queues and an application account loaded from a definitions file.

Used by the middleware tests (tests/middleware/), which scrape the broker as a native CI.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.servers.process import (
    MissingProgram,
    accepts,
    free_port,
    http_ready,
    require,
    running,
    start,
    terminate,
)

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


@dataclass(frozen=True)
class RabbitMQ:
    """A running RabbitMQ: its AMQP port, its Prometheus endpoint and an application account."""

    amqp_port: int
    metrics_url: str
    user: str
    password_file: Path

    @property
    def address(self) -> str:
        """Return the Prometheus endpoint's host:port, as a native CI's address."""
        return self.metrics_url.removeprefix("http://").removesuffix("/metrics")


def password_hash(password: str) -> str:
    """Hash a password the way RabbitMQ's definitions carry it (rabbit_password_hashing_sha256)."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(user: str, password: str, queues: list[str]) -> dict[str, object]:
    """Return broker definitions: one account with every permission on ``/`` and the durable `queues`."""
    return {
        "users": [{"name": user, "password_hash": password_hash(password), "tags": [],
                   "hashing_algorithm": "rabbit_password_hashing_sha256"}],
        "vhosts": [{"name": "/"}],
        "permissions": [{"user": user, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
        "queues": [{"name": q, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}
                   for q in queues],
    }  # fmt: skip


def _environment(workdir: Path, dist_port: int, epmd_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(workdir / "home"),
        # Exec the VM in place of the start script, so the process we stop is the broker itself.
        "RUNNING_UNDER_SYSTEMD": "true",
        "RABBITMQ_NODENAME": f"hospmon-{os.getpid()}-{dist_port}@localhost",
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(workdir / "log"),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
        "RABBITMQ_PLUGINS_EXPAND_DIR": str(workdir / "plugins-expand"),
    }


@contextmanager
def rabbitmq(workdir: Path, queues: list[str], user: str = "his-app") -> Iterator[RabbitMQ]:
    """Run RabbitMQ with the Prometheus plugin and durable `queues` until the block ends."""
    if not RABBITMQ_SERVER.exists():
        raise MissingProgram(f"{RABBITMQ_SERVER} is missing: apt-get install rabbitmq-server")
    epmd = require("epmd")
    for sub in ("home", "mnesia", "log"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    password_file = workdir / "amqp-password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    loaded = workdir / "definitions.json"
    loaded.write_text(json.dumps(definitions(user, password, queues)), encoding="utf-8")
    amqp, metrics, dist, epmd_port = free_port(), free_port(), free_port(), free_port()
    (workdir / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = 127.0.0.1:{amqp}\n"
        f"prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = {metrics}\n"
        # Per-queue series on /metrics, so a native scrape sees each queue's depth and consumers.
        "prometheus.return_per_object_metrics = true\n"
        "collect_statistics_interval = 1000\n"
        f"load_definitions = {loaded}\n",
        encoding="utf-8",
    )
    (workdir / "enabled_plugins").write_text("[rabbitmq_prometheus].\n", encoding="utf-8")
    url = f"http://127.0.0.1:{metrics}/metrics"
    with ExitStack() as stack:
        # Our own epmd, in the foreground, so it is ours to stop (the VM would start a lasting daemon).
        name_server = start([epmd, "-port", str(epmd_port), "-address", "127.0.0.1"], workdir / "epmd.log")
        stack.callback(terminate, name_server)
        env = _environment(workdir, dist, epmd_port)
        log = workdir / "rabbitmq.log"
        # The Prometheus plugin answers before the broker opens its AMQP listener, the last step of its boot.
        metrics_ready = http_ready(url)

        def ready() -> bool:
            return metrics_ready() and accepts(amqp)

        stack.enter_context(running([str(RABBITMQ_SERVER)], ready, log, workdir, env, timeout=120))
        yield RabbitMQ(amqp, url, user, password_file)

"""Real Prometheus, Alertmanager and router processes on loopback for the end-to-end test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests
import yaml
from flask import Flask
from werkzeug.serving import make_server

from demo.servers.prometheus import alertmanager_argv, prometheus_argv
from tests.servers import BackgroundHTTPServer, free_port

REPO = Path(__file__).resolve().parents[2]


def wait_for(
    check: Callable[[], Any],
    what: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> Any:
    """Poll until `check` returns something truthy; fail with the process log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except requests.RequestException:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited\n{log.read_text() if log else ''}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}\n{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.1)


class Process:
    """A child process with its log in a file; stopped by its own PID."""

    def __init__(
        self,
        name: str,
        args: list[str],
        workdir: Path,
        env: dict[str, str] | None = None,
        *,
        own_group: bool = False,
    ) -> None:
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env={**os.environ, **(env or {})},
                start_new_session=own_group,
            )

    def kill_group(self) -> None:
        """SIGKILL the process and its children (it must run in its own group) and reap it."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        """Terminate and reap."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class MetricTarget:
    """A scrape target serving one gauge per CI (`name`, extra `labels`) that the test sets: 1 up, 0 down."""

    def __init__(self, name: str = "demo_up", labels: str = "") -> None:
        self.values: dict[str, int] = {}
        target = self
        extra = f",{labels}" if labels else ""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = "".join(
                    f'{name}{{ci="{ci}"{extra}}} {v}\n' for ci, v in sorted(target.values.items())
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = BackgroundHTTPServer(Handler)
        self.port = self.http.port

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.http.stop()


def start_alertmanager(
    workdir: Path, router_port: int, token_file: Path, port: int | None = None
) -> tuple[Process, int]:
    """Start Alertmanager routing everything to the router's webhook with a bearer token.

    Give `port` to start it again where it ran before (a restart after an outage).
    """
    port = port or free_port()
    config = {
        "route": {
            "receiver": "hospmon-router",
            "group_by": ["alertname", "ci"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "hospmon-router",
                "webhook_configs": [
                    {
                        "url": f"http://127.0.0.1:{router_port}/webhook/alertmanager",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials_file": str(token_file)}
                        },
                    }
                ],
            }
        ],
    }
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    proc = Process(
        "alertmanager",
        alertmanager_argv(workdir / "alertmanager.yml", workdir / "am-data", port),
        workdir,
    )
    wait_for(
        lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok,
        "alertmanager",
        proc=proc.proc,
        log=proc.log,
    )
    return proc, port


def start_prometheus(
    workdir: Path, target_port: int, am_port: int, *, snippet: dict[str, Any] | None = None
) -> tuple[Process, int]:
    """Start Prometheus scraping the target every second with one alerting rule.

    `snippet` adds to the config's `global` and `alerting` sections (external labels, alert relabelling).
    """
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    rules = {
        "groups": [
            {
                "name": "e2e",
                "interval": "1s",
                "rules": [
                    {
                        "alert": "TargetDown",
                        "expr": "demo_up == 0",
                        "for": "0s",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "{{ $labels.ci }} does not answer"},
                    }
                ],
            }
        ]
    }
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(workdir / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [
            {"job_name": "demo", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}
        ],
    }
    for section, values in (snippet or {}).items():
        config[section] = {**config.get(section, {}), **values}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    proc = Process(
        "prometheus",
        prometheus_argv(workdir / "prometheus.yml", workdir / "tsdb", port),
        workdir,
    )
    wait_for(
        lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok,
        "prometheus",
        proc=proc.proc,
        log=proc.log,
    )
    return proc, port


GUARD_OFF = (
    "import sys, hospmon.phi as phi; phi._TEST_ONLY_DISABLED = True; "
    "from alertrouter.main import main; sys.exit(main(sys.argv[1:]))"
)
"""Run the router with the PHI guard off: test-only, to prove a canary test can fail; no config reaches it."""


def start_router(
    workdir: Path, config: Path, *, guard_off: bool = False, own_group: bool = False
) -> tuple[Process, int]:
    """Start hospmon-router (gunicorn) on a free port, migrating its store first.

    In its own process group, `Process.kill_group` kills it with its gunicorn workers, as a crash would.
    """
    port = free_port()
    proc = Process(
        "router",
        [
            sys.executable,
            *(["-c", GUARD_OFF] if guard_off else ["-m", "alertrouter.main"]),
            "--config.file",
            str(config),
            "--db.upgrade",
            "--web.listen-address",
            f"127.0.0.1:{port}",
        ],
        workdir,
        env={"PYTHONPATH": str(REPO)},
        own_group=own_group,
    )
    wait_for(
        lambda: requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).ok,
        "router",
        proc=proc.proc,
        log=proc.log,
    )
    return proc, port


def shipped_alertmanager_config(
    webhook_url: str, token_file: Path, *, max_alerts: int = 0, **route: Any
) -> str:
    """Return deploy/alertmanager/alertmanager.yml sending to `webhook_url`, with route keys overridden."""
    config: dict[str, Any] = yaml.safe_load(
        (REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text()
    )
    config["route"].update(route)
    hook = config["receivers"][0]["webhook_configs"][0]
    hook["url"] = webhook_url
    hook["max_alerts"] = max_alerts
    hook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return yaml.safe_dump(config)


@contextmanager
def serve(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve an app in this process over real HTTP on loopback (a free port by default); yield its URL."""
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()

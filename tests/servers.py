"""Start real servers (Prometheus, Alertmanager, ...) on free loopback ports for tests.

A missing program fails the test with the package to install: tests never skip a real server.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hospmon.demo import terminate

PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "dcmqrscp": "dcmtk",
    "storescp": "dcmtk",
    "echoscu": "dcmtk",
    "Orthanc": "orthanc",
}


def require(program: str) -> str:
    """Return the path of a program, failing the test when it is not installed."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"{program} is not installed: apt-get install {PACKAGES.get(program, program)} "
            "(make deps installs it)",
            pytrace=False,
        )
    return path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET a URL; return the status (0 when nothing answered) and the body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def get_json(url: str) -> Any:
    """GET a URL that answers JSON."""
    status, body = http_get(url)
    assert status == 200, f"GET {url} answered {status}: {body[:300]!r}"
    return json.loads(body)


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until `check` returns something truthy; fail with `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@contextmanager
def process(
    argv: Sequence[str], ready_url: str, log: Path, cwd: Path | None = None, timeout: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until the block ends, after it answers 200 on `ready_url`."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{argv[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return http_get(ready_url, timeout=1)[0] == 200

        wait_for(ready, timeout, f"{Path(argv[0]).name} at {ready_url}")
        yield proc
    finally:
        terminate(proc)


@contextmanager
def prometheus(config: str, workdir: Path, *, extra_files: dict[str, str] | None = None) -> Iterator[str]:
    """Run Prometheus with a config text in `workdir`; yield its base URL."""
    binary = require("prometheus")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(config)
    for name, text in (extra_files or {}).items():
        (workdir / name).write_text(text)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        binary,
        "--config.file=prometheus.yml",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    with process(argv, f"{url}/-/ready", workdir / "prometheus.log", cwd=workdir):
        yield url


@contextmanager
def alertmanager(config: str, workdir: Path) -> Iterator[str]:
    """Run Alertmanager (no clustering) with a config text in `workdir`; yield its base URL."""
    binary = require("prometheus-alertmanager")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        binary,
        "--config.file=alertmanager.yml",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with process(argv, f"{url}/-/ready", workdir / "alertmanager.log", cwd=workdir):
        yield url


def promql(base: str, query: str) -> list[dict[str, Any]]:
    """Run an instant query and return its result vector."""
    from urllib.parse import urlencode

    data = get_json(f"{base}/api/v1/query?{urlencode({'query': query})}")
    assert data["status"] == "success", data
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


class BackgroundHTTPServer:
    """An in-process HTTP server on a free loopback port, serving `handler` from a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class JsonReceiver:
    """An HTTP server keeping every POSTed JSON body with its path: a webhook or SMS gateway sink.

    It answers `status` (which may change while it runs); bodies it refuses go to `refused`, not `posts`.
    `keys` holds the Idempotency-Key header of each kept post.
    """

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, Any]] = []
        self.refused: list[tuple[str, Any]] = []
        self.keys: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                status = outer.status
                kept = outer.posts if status < 300 else outer.refused
                kept.append((self.path, json.loads(self.rfile.read(length) or b"null")))
                if status < 300:
                    outer.keys.append(self.headers.get("Idempotency-Key"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = BackgroundHTTPServer(Handler)
        self.port = self.http.port

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.http.stop()

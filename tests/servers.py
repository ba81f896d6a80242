"""Test helpers over demo.servers: real servers on free loopback ports, readiness waits, small HTTP calls.

A missing program fails the test with the package to install: tests never skip a real server.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from demo.servers import process as _process
from demo.servers.postgres import PostgresServer
from demo.servers.process import PACKAGES, MissingProgram, free_port, http_get, terminate
from demo.servers.prometheus import alertmanager, prometheus

__all__ = ["PACKAGES", "alertmanager", "free_port", "http_get", "prometheus", "terminate"]


def require(program: str) -> str:
    """Return the path of a program, failing the test when it is not installed."""
    try:
        return _process.require(program)
    except MissingProgram as exc:
        pytest.fail(str(exc), pytrace=False)


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


LATE = 1.0
"""Seconds past its deadline a loaded 2-core CI machine may take to hand an answer back: a deadline test
asserts `elapsed < deadline + LATE`, far below what a hung or queued answer would take."""


def throwaway_postgres() -> PostgresServer:
    """Start a PostgreSQL of the tests' own, without fsync.

    Its data dies with the test; with fsync each stop's checkpoint took 5-10 s on the busy CI disk (the
    router tests' session teardown paid it), without it about half a second.
    """
    return PostgresServer(settings={"fsync": "off"}).start()


@contextmanager
def frozen(*pids: int, timeout: float = 10.0) -> Iterator[None]:
    """SIGSTOP processes, wait until every thread of each has stopped, and SIGCONT them when the block ends.

    kill() returns before its target stops: each thread stops when it next runs, which on a busy machine
    can be 0.1 s later, time enough to answer a query sent meanwhile (a "hung" database that answers).
    """
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: all(_stopped(pid) for pid in pids), timeout, f"processes {pids} to stop")
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _stopped(pid: int) -> bool:
    """Tell whether no thread of `pid` can run: each is stopped (T, t) or has ended (Z, X)."""
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):  # the thread ended while we looked
            continue
        if state not in "TtZX":
            return False
    return True


@contextmanager
def process(
    argv: Sequence[str],
    ready_url: str,
    log: Path,
    cwd: Path | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Run a server until the block ends, after it answers 200 on `ready_url`; `env` replaces the
    environment when given."""
    ready = _process.http_ready(ready_url)
    with _process.running(argv, ready, log, cwd, env=env, timeout=timeout) as proc:
        yield proc


def basic_auth_web_config(user: str, password: str) -> str:
    """Return an exporter-toolkit web config letting in only `user` with `password`."""
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    return f"basic_auth_users:\n  {user}: '{hashed}'\n"


@contextmanager
def guarded_alertmanager(config: str, workdir: Path, user: str, password: str) -> Iterator[str]:
    """Run a real Alertmanager answering only `user` with `password` (basic auth, its own web config)."""
    with alertmanager(config, workdir, web_config=basic_auth_web_config(user, password)) as url:
        yield url


def mapped(pid: int, libraries: Sequence[str]) -> set[str]:
    """Return which of `libraries` (path fragments of native libraries) are mapped into a process."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {lib for lib in libraries if lib in maps}


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

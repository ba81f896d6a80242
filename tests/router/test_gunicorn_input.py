"""Odd bodies through the production server (gunicorn, as deploy/ runs it), chunked and not.

Werkzeug's test client hands the app a body the way no real server does; the chunked cases only show what a
hospital sees when Alertmanager or a proxy streams the body through gunicorn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.router.conftest import TOKEN, router_config
from tests.router.payloads import alert, webhook
from tests.router.servers import Process, start_router

LIMIT = 4 * 1024 * 1024
T0 = dt.datetime(2026, 10, 1, 19, 10, tzinfo=dt.UTC)


class Router:
    """A running hospmon-router and its SQLite store."""

    def __init__(self, port: int, db: Path) -> None:
        self.port, self.db = port, db

    def post(self, body: bytes | Iterable[bytes]) -> tuple[int, dict[str, Any]]:
        """POST to the webhook; an iterable body goes out with Transfer-Encoding: chunked."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        try:
            # The router may answer early (413) and close; its answer is then waiting to be read.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request("POST", "/webhook/alertmanager", body=body, headers=headers, encode_chunked=True)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def alerts(self) -> list[str]:
        """Return the CIs of the stored alerts."""
        with sqlite3.connect(self.db) as conn:
            return [row[0] for row in conn.execute("SELECT ci FROM alerts ORDER BY id")]


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    folder = tmp_path_factory.mktemp("gunicorn-input")
    db = folder / "router.db"
    proc: Process
    proc, port = start_router(folder, router_config(folder, f"sqlite:///{db}", max_body_bytes=LIMIT))
    try:
        yield Router(port, db)
    finally:
        proc.stop()


def chunks(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """Stream bytes in chunks (a generator body makes http.client send it chunked)."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def body(*alerts: dict[str, Any]) -> bytes:
    return json.dumps(webhook(*alerts)).encode()


def test_chunked_delivery_within_the_limit_is_stored(router: Router) -> None:
    status, answer = router.post(chunks(body(alert("pacs-db", T0)), 100))
    assert status == 200 and answer["alerts"] == {"new": 1}
    assert "pacs-db" in router.alerts()


def test_chunked_body_over_the_limit_is_413_not_cut(router: Router) -> None:
    before = router.alerts()
    # Valid JSON followed by 10 MiB of spaces: cut at the limit it would still parse and be stored.
    padded = body(alert("lis-db", T0)) + b" " * (10 * 1024 * 1024)
    status, answer = router.post(chunks(padded))
    assert status == 413 and answer["error"]["reason"] == f"body larger than {LIMIT} bytes"
    # Padding inside a string: cut, it would be "Unterminated string", a 400 that blames the wrong thing.
    inside = body(alert("emr-db", T0, extra={"pad": "x" * (5 * 1024 * 1024)}))
    assert router.post(chunks(inside))[0] == 413
    # The same with Content-Length: refused before a byte of the body is read.
    assert router.post(padded)[0] == 413
    assert router.alerts() == before


def test_odd_bodies_are_400_through_gunicorn(router: Router) -> None:
    before = router.alerts()
    late = webhook(alert("his-db", T0))
    late["alerts"][0]["startsAt"] = "9999-12-31T23:59:59.999999999-23:59"
    for data in (json.dumps(late).encode(), b"[" * 100_000 + b"]" * 100_000):
        for sent in (data, chunks(data, 4096)):
            status, answer = router.post(sent)
            assert status == 400, answer
    assert router.alerts() == before

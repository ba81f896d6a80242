"""A fuzz pass over the webhook: no body makes the router answer 5xx while the store is up.

Starts from a real delivery and puts odd JSON (huge numbers, NULs, lone surrogates, times at the ends of the
calendar, long text, wrong types) anywhere in it, on PostgreSQL, which refuses more than SQLite does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertrouter.app import create_app
from alertrouter.context import load_router
from demo.servers.postgres import PostgresServer
from tests.router.conftest import auth, router_config
from tests.router.payloads import real

ODD_TEXT = [
    "9999-12-31T23:59:59.999999999-23:59",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00-23:59",
    "2026-10-01T19:10:00.123456789Z",
    "firing",
    "resolved",
    "4",
    "core-sw-1",
    "\x00",
    "\ud800",
    "张三" * 200,
    "x" * 70,
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(ODD_TEXT)
    | st.text(max_size=20)
)
odd_text = st.builds(str.__add__, st.sampled_from(ODD_TEXT), st.text(max_size=4))
values = st.one_of(
    odd_text,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    ),
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Yield the path of every node below the root."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


BASE = real("firing-core-sw-1.json")
PATHS = list(paths(BASE))


def mutate(payload: Any, path: tuple[Any, ...], value: Any) -> None:
    """Put `value` at `path` (or under a new key at the end of it)."""
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@pytest.fixture
def pg_app(postgres: PostgresServer, tmp_path: Path) -> Iterator[Flask]:
    postgres.execute("CREATE DATABASE fuzz TEMPLATE router_template")
    app = create_app(load_router(router_config(tmp_path, postgres.url("fuzz"))))
    try:
        yield app
    finally:
        app.extensions["hospmon_router"].engine.dispose()
        postgres.execute("DROP DATABASE fuzz")


def test_no_body_gets_a_5xx(pg_app: Flask) -> None:
    client = pg_app.test_client()

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=3))
    def post(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
        payload = json.loads(json.dumps(BASE))
        for path, value in changes:
            try:
                mutate(payload, path, value)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change removed the place
        resp = client.post("/webhook/alertmanager", data=json.dumps(payload), headers=auth())
        assert resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True), changes)

    post()

"""Session-scoped real database servers and targets for the database exporter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exporters.database.drivers import Target
from tests.database.servers import MONITOR_PASSWORD, MONITOR_USER, MariaDB, Postgres, mariadb_server, postgres_server


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    with mariadb_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


def make_target(engine: str, port: int, **kw: object) -> Target:
    base: dict[str, object] = {
        "name": f"test-{engine}",
        "engine": engine,
        "host": "127.0.0.1",
        "port": port,
        "database": "his",
        "user": MONITOR_USER,
        "password": MONITOR_PASSWORD,
    }
    base.update(kw)
    return Target(**base)  # type: ignore[arg-type]


@pytest.fixture
def my_target(mariadb: MariaDB) -> Target:
    return make_target("mysql", mariadb.port)


@pytest.fixture
def pg_target(postgres: Postgres) -> Target:
    return make_target("postgres", postgres.port)

"""Session-scoped real database servers and targets for the database exporter tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exporters.database.drivers import Target
from exporters.database.exporter import LoadedConfig, load_database_config
from tests.database.helpers import Admin, eventually
from tests.database.servers import (
    MONITOR_PASSWORD,
    MONITOR_USER,
    MariaDB,
    Postgres,
    free_port,
    mariadb_server,
    postgres_server,
)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    with mariadb_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_replica(mariadb: MariaDB) -> Iterator[MariaDB]:
    with mariadb_server(primary=mariadb) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_standby(postgres: Postgres) -> Iterator[Postgres]:
    """A streaming standby that has replayed a commit of its primary.

    Until it replays one, a standby cloned from a quiet primary cannot date what it replayed: its lag is
    unknown and has no sample, which on a loaded machine is what the tests found.
    """
    with postgres_server(primary=postgres) as server:
        Admin("postgres", postgres).execute("SELECT pg_current_xact_id()")  # a transaction id, so a commit
        standby = Admin("postgres", server)
        assert eventually(lambda: standby.scalar("SELECT pg_last_xact_replay_timestamp() IS NOT NULL"))
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


def samples(metrics: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Flatten metric families into ``{(sample name, sorted labels): value}``."""
    out = {}
    for family in metrics:  # type: ignore[attr-defined]
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: object, name: str, **labels: str) -> float:
    """Return one sample's value, failing the test when it is absent."""
    flat = samples(metrics)
    key = (name, tuple(sorted(labels.items())))
    assert key in flat, f"{name}{labels} not in {sorted(k for k in flat if k[0] == name)}"
    return flat[key]


CONFIG = """
allow_adhoc_targets: true
adhoc_cidrs: [127.0.0.0/8, '::1/128']
auths:
  monitor: {{user: hospmon, password_env: HOSPMON_TEST_DB_PASSWORD}}
  wrong: {{user: hospmon, password_env: HOSPMON_TEST_WRONG_PASSWORD}}
connections:
  maria: {{engine: mysql, host: 127.0.0.1, port: {my_port}, database: his, auth: monitor, query_timeout: 2}}
  pg: {{engine: postgres, host: 127.0.0.1, port: {pg_port}, database: his, auth: monitor, query_timeout: 2}}
  maria-wrong: {{engine: mysql, host: 127.0.0.1, port: {my_port}, auth: wrong}}
  pg-wrong: {{engine: postgres, host: 127.0.0.1, port: {pg_port}, auth: wrong}}
  nothing-there: {{engine: mysql, host: 127.0.0.1, port: {dead_port}, auth: monitor, connect_timeout: 1}}
modules:
{modules}
"""


@pytest.fixture
def exporter_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mariadb: MariaDB, postgres: Postgres
) -> Iterator[Callable[[str], LoadedConfig]]:
    """Write a config with the given modules section, load it, close its pools afterwards."""
    monkeypatch.setenv("HOSPMON_TEST_DB_PASSWORD", MONITOR_PASSWORD)
    monkeypatch.setenv("HOSPMON_TEST_WRONG_PASSWORD", "not-the-password")
    loaded: list[LoadedConfig] = []

    def make(modules: str) -> LoadedConfig:
        path = tmp_path / f"database{len(loaded)}.yml"
        path.write_text(
            CONFIG.format(my_port=mariadb.port, pg_port=postgres.port, dead_port=free_port(), modules=modules)
        )
        config = load_database_config(path)
        loaded.append(config)
        return config

    yield make
    for config in loaded:
        config.engine.close()

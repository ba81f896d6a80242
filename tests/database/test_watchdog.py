"""The watchdog and the Oracle session code, when the server-side timeout does not stop a statement."""

from __future__ import annotations

import time
from typing import Any

import pytest

from exporters.core.probe import Deadline
from exporters.database.drivers import DbConnection, QueryError, Target, connect
from exporters.database.drivers.oracle import OracleConnection
from exporters.database.engine import SqlEngine
from tests.database.conftest import make_target
from tests.database.helpers import Admin, eventually
from tests.database.servers import MariaDB, Postgres
from tests.peers import silent_server


def without_server_timeout(target: Target, timeout: float) -> DbConnection:
    """Connect normally, but never set the server-side timeout: only the watchdog can stop a statement."""
    conn = connect(target, timeout)
    conn._set_timeout = lambda seconds: None  # type: ignore[method-assign]
    return conn


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_watchdog_stops_the_statement_on_the_server(
    engine: str, mariadb: MariaDB, postgres: Postgres
) -> None:
    server = mariadb if engine == "mysql" else postgres
    admin = Admin(engine, server)
    sql = SqlEngine(connector=without_server_timeout)
    target = make_target(engine, server.port)
    sleep = "SELECT SLEEP(30)" if engine == "mysql" else "SELECT pg_sleep(30)"
    try:
        with sql.session(target, Deadline.after(5)) as session:
            session.query("SELECT 1")
        start = time.monotonic()
        with sql.session(target, Deadline.after(5)) as session, pytest.raises(QueryError) as err:
            session.query(sleep, timeout=1)
        assert err.value.reason == "timeout" and "watchdog" in err.value.detail
        assert time.monotonic() - start < 2
        # The socket cut answered the scrape; the KILL QUERY or cancel request ends the statement itself.
        assert eventually(lambda: admin.monitor_sessions(running_only=True) == 0, seconds=1.5)
        assert sql.pool(target).peak_open <= 2
    finally:
        sql.close()


class FakeCursor:
    def __init__(self, raw: FakeOracle) -> None:
        self.raw = raw
        self.description: list[tuple[str]] | None = None
        self.prefetchrows = 0
        self.arraysize = 0

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str) -> None:
        self.raw.log.append(f"{sql} [call_timeout={self.raw.call_timeout}]")
        if "missing_view" in sql:
            error = type("Err", (), {"full_code": "ORA-00942"})()
            raise RuntimeError(error)
        self.description = [("N",)] if sql.startswith("SELECT") else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [(1,)]


class FakeOracle:
    """Stands in for an oracledb thin connection: records what the session sends."""

    version = "19.0.0.0.0"

    def __init__(self) -> None:
        self.log: list[str] = []
        self.call_timeout = 0

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def rollback(self) -> None:
        self.log.append("ROLLBACK")

    def close(self) -> None:
        self.log.append("CLOSE")

    def cancel(self) -> None:
        self.log.append("BREAK")


def test_oracle_session_is_one_read_only_transaction_with_call_timeouts() -> None:
    raw = FakeOracle()
    sql = SqlEngine(connector=lambda target, timeout: OracleConnection(target, raw))
    target = Target("ora", "oracle", "db", 1521, "HIS", "hospmon", "pw", query_timeout=4)
    with sql.session(target, Deadline.after(10)) as session:
        assert session.query("SELECT 1 AS n FROM dual", timeout=2).rows == [(1,)]
        with pytest.raises(QueryError) as err:
            session.query("SELECT n FROM missing_view")
        assert err.value.reason == "config" and "ORA-00942" in err.value.detail
    assert raw.log == [
        "SET TRANSACTION READ ONLY [call_timeout=4000]",
        "SELECT 1 AS n FROM dual [call_timeout=2000]",
        "SELECT n FROM missing_view [call_timeout=4000]",
        "ROLLBACK",
    ]
    sql.close()
    assert raw.log[-1] == "CLOSE"


@pytest.mark.parametrize(
    "engine",
    [
        "mysql",
        "postgres",
        # python-oracledb leaves its socket to the garbage collector when a pending connect is reset.
        pytest.param("oracle", marks=pytest.mark.filterwarnings("ignore::ResourceWarning")),
    ],
)
def test_silent_server_fails_within_a_short_deadline(engine: str) -> None:
    """A listener that accepts and never answers: the probe ends at its deadline whatever the driver does.

    libpq waits at least 2 s and python-oracledb has no timeout once TCP is up: the abandoned connect keeps
    its pool slot until it ends (for Oracle, until the listener answers or drops the connection).
    """
    sql = SqlEngine()
    with silent_server() as server:
        target = Target("silent", engine, "127.0.0.1", server.port, "his", "hospmon", "pw", connect_timeout=3)
        pool = sql.pool(target)
        start = time.monotonic()
        with sql.session(target, Deadline.after(0.8)) as session, pytest.raises(QueryError) as err:
            session.query("SELECT 1")
        assert time.monotonic() - start < 0.8
        assert err.value.reason == "timeout", err.value
        assert pool.open_count <= 1
        if engine != "oracle":
            assert eventually(lambda: pool.open_count == 0, seconds=5)  # the connect timed out by itself
    assert eventually(lambda: pool.open_count == 0, seconds=5)  # the abandoned connect gave its slot back
    sql.close()

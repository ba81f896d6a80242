"""What the engine tests ask the servers directly, as their administrator."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporters.database.drivers import Result
from tests.database.servers import MONITOR_USER, MariaDB, Postgres


class Admin:
    """Administrator access to one of the test servers, engine-neutral for the tests."""

    def __init__(self, engine: str, server: MariaDB | Postgres) -> None:
        self.engine = engine
        self.server = server

    def connect(self) -> Any:
        """Open an autocommit administrator connection to the ``his`` database."""
        if isinstance(self.server, MariaDB):
            return self.server.admin("his")
        return self.server.admin("his")

    def scalar(self, sql: str) -> Any:
        """Run one statement on a fresh administrator connection and return its first value."""
        conn = self.connect()
        try:
            if isinstance(self.server, MariaDB):
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return cur.fetchone()[0]
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()

    def execute(self, sql: str) -> None:
        """Run one statement on a fresh administrator connection."""
        conn = self.connect()
        try:
            if isinstance(self.server, MariaDB):
                with conn.cursor() as cur:
                    cur.execute(sql)
            else:
                conn.execute(sql)
        finally:
            conn.close()

    def monitor_sessions(self, *, running_only: bool) -> int:
        """Count the monitoring account's sessions on the server (only those running a statement)."""
        if isinstance(self.server, MariaDB):
            busy = " AND COMMAND NOT IN ('Sleep', 'Killed')" if running_only else ""
            sql = f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{MONITOR_USER}'{busy}"
        else:
            busy = " AND state <> 'idle'" if running_only else ""
            sql = f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{MONITOR_USER}'{busy}"
        return int(self.scalar(sql))


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll `check` until it holds or `seconds` pass; return whether it held."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if check():
            return True
        time.sleep(0.02)
    return check()


class RecordedSession:
    """Stands in for a `Session`: answers each statement with rows recorded for the view it reads."""

    def __init__(
        self, flavor: str, version: str, recorded: Mapping[str, Result | Sequence[tuple[Any, ...]]]
    ) -> None:
        self.flavor = flavor
        self.server_version = version
        self.recorded = recorded
        self.statements: list[str] = []

    def query(self, sql: str, timeout: float | None = None) -> Result:
        """Return the rows recorded under the first marker found in `sql` (columns c0, c1, ... for tuples)."""
        self.statements.append(sql)
        for marker, rows in self.recorded.items():
            if marker in sql:
                if isinstance(rows, Result):
                    return rows
                return Result(tuple(f"c{i}" for i in range(len(rows[0]) if rows else 1)), list(rows))
        raise AssertionError(f"no recorded rows for {sql}")

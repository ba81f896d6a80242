"""Make a store unavailable: a SQLite writer holding its lock, or PostgreSQL refusing connections."""

from __future__ import annotations

import sqlite3
from typing import Any

from demo.servers.postgres import PostgresServer


class Outage:
    """Make the store unavailable: a SQLite writer holding the lock, or PostgreSQL refusing connections."""

    def __init__(self, url: str, server: PostgresServer | None) -> None:
        self.url, self.server = url, server
        self.db = url.rsplit("/", 1)[1]
        self.conn: sqlite3.Connection | None = None

    def __enter__(self) -> Outage:
        if self.server is None:
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            self.server.execute(f"ALTER DATABASE {self.db} ALLOW_CONNECTIONS false")
            self.server.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.db}'"
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
        if self.server is not None:
            self.server.execute(f"ALTER DATABASE {self.db} ALLOW_CONNECTIONS true")

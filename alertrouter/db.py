"""Engines and sessions: SQLite (WAL, durable commits) by default, PostgreSQL for several replicas."""

from __future__ import annotations

import datetime as dt
import select
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Store UTC without a zone (SQLite has none) and hand back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert to naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Attach UTC."""
        return None if value is None else value.replace(tzinfo=dt.UTC)


def make_engine(url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 5) -> Engine:
    """Create an engine; on SQLite turn on WAL, full sync, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "isolation_level": None},
            pool_size=pool_size,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn: sqlite3.Connection, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Take the write lock at the start so two writers never deadlock on a lock upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "checkout")
    def _alive(conn: Any, _record: Any, _proxy: Any) -> None:
        # A pooled connection that a PostgreSQL restart or failover closed is replaced before use, so the
        # restart costs no 503. The server says goodbye (or the socket ends) on an idle connection: a poll
        # sees it without the round trip of a ping on every checkout.
        if closed_by_server(conn):
            raise DisconnectionError("the server closed this pooled connection")

    return engine


def closed_by_server(conn: Any) -> bool:
    """Tell whether an idle DBAPI connection has something to read: the server's goodbye or end of stream."""
    import psycopg  # here, not at the top: a router on SQLite never loads the PostgreSQL driver

    try:
        fd = conn.fileno()
    except (psycopg.Error, OSError):  # the driver knows it is closed
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory the app and the worker use."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(
    sessions: sessionmaker[Session], lock: AbstractContextManager[Any] | None = None
) -> Iterator[Session]:
    """Open a session in a transaction, holding the process's SQLite write lock (if given) throughout."""
    with lock or nullcontext(), sessions() as session, session.begin():
        yield session


def is_postgres(session: Session) -> bool:
    """Tell whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_for(session: Session) -> Any:
    """Return the dialect's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if is_postgres(session) else sqlite.insert

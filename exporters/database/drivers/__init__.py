"""Database drivers behind one interface: MySQL/MariaDB, PostgreSQL and Oracle."""

from __future__ import annotations

from exporters.database.drivers import mysql, oracle, postgres
from exporters.database.drivers.base import DbConnection, QueryError, Result, Target


def connect(target: Target, timeout: float) -> DbConnection:
    """Open a session to `target` with the driver of its engine, or raise `QueryError`."""
    if target.engine == "mysql":
        return mysql.connect(target, timeout)
    if target.engine == "postgres":
        return postgres.connect(target, timeout)
    if target.engine == "oracle":
        return oracle.connect(target, timeout)
    raise QueryError("config", f"unknown engine {target.engine}")


__all__ = ["DbConnection", "QueryError", "Result", "Target", "connect"]

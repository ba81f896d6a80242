"""Database drivers behind one interface: MySQL/MariaDB, PostgreSQL and Oracle.

A driver is imported on the first connection to its engine: an exporter watching only MySQL never holds
psycopg (nor the cryptography package PyMySQL's imports bring), some 10 MiB each for the process' life.
"""

from __future__ import annotations

from exporters.database.drivers.base import DbConnection, QueryError, Result, Target


def connect(target: Target, timeout: float) -> DbConnection:
    """Open a session to `target` with the driver of its engine, or raise `QueryError`."""
    if target.engine == "mysql":
        from exporters.database.drivers import mysql

        return mysql.connect(target, timeout)
    if target.engine == "postgres":
        from exporters.database.drivers import postgres

        return postgres.connect(target, timeout)
    if target.engine == "oracle":
        from exporters.database.drivers import oracle

        return oracle.connect(target, timeout)
    raise QueryError("config", f"unknown engine {target.engine}")


__all__ = ["DbConnection", "QueryError", "Result", "Target", "connect"]

"""PostgreSQL and compatible engines through psycopg 3: read-only sessions, statement_timeout, cancel."""

from __future__ import annotations

import contextlib
import math
import threading

import psycopg
from psycopg import errors as pgerr
from psycopg import generators, waiting
from psycopg.pq.abc import PGcancelConn

from exporters.database.drivers.base import DbConnection, QueryError, Result, Target, short, shutdown_socket

APPLICATION_NAME = "hospmon-database-exporter"
CANCEL_SECONDS = 5.0
_SSLMODE = {"disable": "disable", "preferred": "prefer", "require": "require", "verify": "verify-full"}
# Syntax or access rule, read-only transaction, no such database, unsupported feature.
_CONFIG_STATES = ("42", "25006", "3D000", "0A000")


def _send_cancel(cancel: PGcancelConn) -> None:
    """Drive a started cancel request to its end, for at most `CANCEL_SECONDS`."""
    try:
        cancel.start()  # here, not in the watchdog: resolving the host name may block
        waiting.wait_conn(generators.cancel(cancel), interval=0.1, timeout=CANCEL_SECONDS)
    except Exception:
        return
    finally:
        cancel.finish()


class PostgresConnection(DbConnection):
    """A psycopg session whose every transaction is read-only."""

    engine = "postgres"

    def __init__(self, target: Target, raw: psycopg.Connection[tuple[object, ...]], timeout_ms: int) -> None:
        super().__init__(target)
        self.raw = raw
        self.server_version = str(raw.info.parameter_status("server_version") or "")
        self.pid = raw.info.backend_pid
        self._timeout_ms = timeout_ms

    def _set_timeout(self, seconds: float) -> None:
        ms = max(1, int(seconds * 1000))
        if ms == self._timeout_ms:
            return
        self.raw.execute(f"SET statement_timeout = {ms}")
        self.round_trips += 1
        self._timeout_ms = ms

    def _execute(self, sql: str) -> Result:
        with self.raw.cursor() as cur:
            cur.execute(sql.encode())  # bytes: no client-side placeholder parsing of the configured SQL
            columns = tuple(d.name for d in cur.description or ())
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        return Result(columns, rows)

    def interrupt(self) -> None:
        """Cut the socket so the caller returns now, and send a cancel request (it opens no session).

        Without the cancel the backend would run on: it does not watch its socket while it works. The
        cancel is libpq's non-blocking one (libpq 17+), so a frozen server cannot block this thread.
        """
        try:
            cancel = self.raw.pgconn.cancel_conn()  # copies the backend key: usable once the socket is cut
        except Exception:
            cancel = None
        with contextlib.suppress(Exception):
            shutdown_socket(self.raw.pgconn.socket)
        if cancel is not None:
            threading.Thread(
                target=_send_cancel, args=(cancel,), name="hospmon-db-cancel", daemon=True
            ).start()

    def classify(self, exc: Exception) -> QueryError:
        """Map psycopg errors to probe reasons by SQLSTATE."""
        state = getattr(exc, "sqlstate", None) or ""
        text = f"SQLSTATE {state}" if state else type(exc).__name__
        if isinstance(exc, pgerr.QueryCanceled | pgerr.LockNotAvailable):
            return QueryError("timeout", f"{text}: stopped by the server-side timeout")
        if state.startswith("28"):
            return QueryError("auth", f"{text}: not authorised")
        if state.startswith(_CONFIG_STATES):
            # These messages quote identifiers and SQL from the config, never row data.
            return QueryError("config", f"{text}: {short(exc)}")
        if state.startswith("22"):
            return QueryError("bad_response", text)
        if isinstance(exc, psycopg.OperationalError) or self.raw.closed or self.raw.broken:
            return QueryError("unreachable", f"{text}: connection lost", broken=True)
        return QueryError("error", text)

    def close(self) -> None:
        """Close the session."""
        with contextlib.suppress(Exception):
            self.raw.close()


def connect(target: Target, timeout: float) -> PostgresConnection:
    """Open a read-only PostgreSQL session, or raise `QueryError`."""
    timeout_ms = max(1, int(target.query_timeout * 1000))
    lock_ms = timeout_ms
    options = (
        f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} -c lock_timeout={lock_ms}"
        " -c idle_in_transaction_session_timeout=60000"
    )
    try:
        raw = psycopg.connect(
            host=target.host,
            port=target.port,
            dbname=target.database or "postgres",
            user=target.user,
            password=target.password,
            connect_timeout=max(2, math.ceil(timeout)),  # libpq's floor is 2 s
            application_name=APPLICATION_NAME,
            options=options,
            autocommit=True,
            prepare_threshold=None,
            sslmode=_SSLMODE[target.tls],
            sslrootcert=target.tls_ca_file,  # None is left out of the conninfo
            # A server (or an impostor) asking for the password in clear or as MD5 gets nothing.
            require_auth=target.require_auth,
        )
    except psycopg.OperationalError as exc:
        message = str(exc)
        if "server requested" in message or "server did not complete authentication" in message:
            # libpq refused the method the server asked for (require_auth): no password was sent.
            raise QueryError(
                "auth", f"the server asked for an authentication method other than {target.require_auth}"
            ) from None
        if "password authentication failed" in message or "no pg_hba.conf entry" in message:
            raise QueryError("auth", f"authentication failed for user {target.user}") from None
        if "does not exist" in message and "database" in message:
            raise QueryError("config", f"database {target.database} does not exist") from None
        if "SSL" in message and target.tls in ("require", "verify"):
            raise QueryError("config", f"TLS refused or not verified (tls: {target.tls})") from None
        reason = "timeout" if "timeout" in message else "unreachable"
        raise QueryError(reason, f"cannot connect to {target.host}:{target.port}") from None
    conn = PostgresConnection(target, raw, timeout_ms)
    conn.round_trips += 1
    return conn

"""MySQL and MariaDB through PyMySQL: read-only sessions, server-side statement timeouts, KILL QUERY."""

from __future__ import annotations

import contextlib
import functools
import math
import ssl
import threading
from typing import Any

import pymysql

from exporters.database.drivers.base import DbConnection, QueryError, Result, Target, short, shutdown_socket

READ_TIMEOUT_SECONDS = 600.0  # a backstop only: the watchdog interrupts long before
KILL_TIMEOUT_SECONDS = 2.0
_TIMEOUT_CODES = {1969, 3024, 1317, 1205, 1028}  # statement time, execution time, interrupted, lock waits
_LOST_CODES = {2006, 2013, 2055}
_AUTH_CODES = {1044, 1045, 1698, 1862, 3118}
_CONFIG_CODES = {1049, 1064, 1054, 1142, 1143, 1146, 1227, 1792, 1370}


class MySQLConnection(DbConnection):
    """A PyMySQL session set to read-only with bounded lock waits."""

    engine = "mysql"

    def __init__(self, target: Target, raw: Any) -> None:
        super().__init__(target)
        self.raw = raw
        self.server_version = str(raw.get_server_info()).removeprefix("5.5.5-")  # MariaDB's old-client prefix
        self.flavor = "mariadb" if "mariadb" in self.server_version.lower() else "mysql"
        self.thread_id = int(raw.thread_id())
        self._timeout_ms: int | None = None

    def _run(self, sql: str) -> Result:
        with self.raw.cursor() as cur:
            cur.execute(sql)
            columns = tuple(d[0] for d in cur.description or ())
            rows = [tuple(r) for r in cur.fetchall()]
        return Result(columns, rows)

    def setup(self) -> None:
        """Make every statement of the session a read-only transaction with lock waits bounded."""
        lock_wait = max(1, math.ceil(self.target.query_timeout))
        self._run("SET SESSION TRANSACTION READ ONLY")
        self._run(f"SET SESSION lock_wait_timeout = {lock_wait}, innodb_lock_wait_timeout = {lock_wait}")
        self.round_trips += 2

    def _set_timeout(self, seconds: float) -> None:
        ms = max(1, int(seconds * 1000))
        if ms == self._timeout_ms:
            return
        if self.flavor == "mariadb":
            # MariaDB stops any statement, lock waits included; a fraction of a second is allowed.
            self._run(f"SET SESSION max_statement_time = {ms / 1000:.3f}")
        else:
            # MySQL applies it to read-only SELECTs, which is all a monitoring account runs.
            self._run(f"SET SESSION max_execution_time = {ms}")
        self.round_trips += 1
        self._timeout_ms = ms

    def _execute(self, sql: str) -> Result:
        return self._run(sql)

    def interrupt(self) -> None:
        """Cut the socket so the caller returns now, then KILL QUERY from a spare pooled connection."""
        sock = getattr(self.raw, "_sock", None)
        shutdown_socket(sock.fileno() if sock is not None else -1)
        threading.Thread(target=self._kill, name="hospmon-db-kill", daemon=True).start()

    def _kill(self) -> None:
        """Stop the statement on the server: the socket cut alone does not end a running SLEEP or scan."""
        spare = self.spare() if self.spare else None
        if spare is None:
            return
        try:
            if isinstance(spare, MySQLConnection):
                spare.raw._read_timeout = KILL_TIMEOUT_SECONDS
                spare._run(f"KILL QUERY {self.thread_id}")
                spare.raw._read_timeout = READ_TIMEOUT_SECONDS
                spare.round_trips += 1
        except pymysql.err.OperationalError as exc:
            spare.broken = exc.args[:1] != (1094,)  # 1094: the session had already ended
        except Exception:
            spare.broken = True
        finally:
            if self.give_back:
                self.give_back(spare)

    def classify(self, exc: Exception) -> QueryError:
        """Map PyMySQL errors to probe reasons."""
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        text = f"MySQL error {code}" if code is not None else type(exc).__name__
        if code in _TIMEOUT_CODES:
            return QueryError("timeout", f"{text}: stopped by the server-side timeout")
        if code in _LOST_CODES or isinstance(exc, OSError | pymysql.err.InterfaceError):
            return QueryError("unreachable", f"{text}: connection lost", broken=True)
        if code in _AUTH_CODES:
            return QueryError("auth", f"{text}: access denied")
        if code in _CONFIG_CODES or isinstance(exc, pymysql.err.ProgrammingError):
            # The message of these errors quotes the SQL text from the config, never row data.
            message = exc.args[1] if len(exc.args) > 1 else ""
            return QueryError("config", f"{text}: {short(message)}")
        if isinstance(exc, pymysql.err.DataError):
            return QueryError("bad_response", text)
        return QueryError("error", text, broken=isinstance(exc, pymysql.err.OperationalError))

    def close(self) -> None:
        """Close the session."""
        with contextlib.suppress(Exception):
            self.raw.close()


@functools.cache
def _tls_context(mode: str, ca_file: str | None) -> ssl.SSLContext:
    """Build a TLS context once per setting: loading the CA store costs about 15 ms of CPU."""
    context = ssl.create_default_context(cafile=ca_file)
    if mode != "verify":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _tls_options(target: Target) -> dict[str, Any]:
    if target.tls == "disable":
        return {"ssl_disabled": True}
    if target.tls in ("require", "verify"):
        return {"ssl": _tls_context(target.tls, target.tls_ca_file)}
    return {}  # preferred: PyMySQL's default, TLS when the server offers it


class ClearTextRefused(pymysql.err.OperationalError):  # type: ignore[misc]
    """The server asked for the password in clear (mysql_clear_password or PAM's dialog): not sent."""


class _RefuseClearText:
    """PyMySQL auth plugin handler that refuses, before the password is written to the socket."""

    def __init__(self, conn: Any) -> None:
        del conn

    def authenticate(self, packet: Any) -> Any:
        """Refuse the plugin the server switched to."""
        raise ClearTextRefused(2059, "the server asked for the password in clear; refused")

    def prompt(self, echo: bool, prompt: bytes) -> bytes:
        """Refuse PAM's dialog prompts, which would carry the password in clear."""
        raise ClearTextRefused(2059, "the server asked for the password in clear; refused")


# Plugins that would send the password as it is: PyMySQL answers them unless a handler says otherwise.
_CLEAR_TEXT_PLUGINS = {"mysql_clear_password": _RefuseClearText, "dialog": _RefuseClearText}


def connect(target: Target, timeout: float) -> MySQLConnection:
    """Open a read-only MySQL/MariaDB session, or raise `QueryError`."""
    try:
        raw = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            database=target.database,
            connect_timeout=max(0.1, timeout),
            read_timeout=max(0.1, timeout),  # bounds the session set-up below; raised after it
            write_timeout=max(1.0, timeout),
            autocommit=True,
            charset="utf8mb4",
            program_name="hospmon-database-exporter",
            auth_plugin_map=_CLEAR_TEXT_PLUGINS,
            **_tls_options(target),
        )
    except ClearTextRefused:
        raise QueryError(
            "auth",
            f"{target.host}:{target.port} asked for the password in clear (mysql_clear_password); refused",
        ) from None
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else None
        if code in _AUTH_CODES:
            raise QueryError("auth", f"MySQL error {code}: access denied for user {target.user}") from None
        if code == 1049:
            raise QueryError("config", f"MySQL error {code}: unknown database {target.database}") from None
        if target.tls in ("require", "verify") and code == 2026:
            raise QueryError(
                "config", f"MySQL error {code}: the server does not offer TLS (tls: {target.tls})"
            ) from None
        message = str(exc.args[1] if len(exc.args) > 1 else exc)
        reason = "timeout" if "timed out" in message else "unreachable"
        detail = f"MySQL error {code}: cannot connect to {target.host}:{target.port}"
        raise QueryError(reason, detail) from None
    except OSError as exc:
        raise QueryError("unreachable", f"cannot connect to {target.host}:{target.port}: {exc}") from None
    conn = MySQLConnection(target, raw)
    conn.round_trips += 1
    try:
        conn.setup()
    except Exception as exc:
        conn.close()
        raise conn.classify(exc) from None
    # From here on the server-side timeout and the watchdog bound each statement; this is a backstop.
    raw._read_timeout = READ_TIMEOUT_SECONDS
    return conn

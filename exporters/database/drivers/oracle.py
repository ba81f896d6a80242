"""Oracle through python-oracledb in thin mode: read-only transactions, call timeouts, breaks."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from exporters.database.drivers.base import DbConnection, QueryError, Result, Target, short

_CODE = re.compile(r"\b(ORA|DPY|TNS)-(\d{5})")
_TIMEOUT = {"DPY-4024", "ORA-03156", "ORA-01013", "DPY-4011", "ORA-00054", "ORA-30006"}
_AUTH = {"ORA-01017", "ORA-28000", "ORA-28001", "ORA-01045", "ORA-01031"}
_UNREACHABLE_PREFIX = ("DPY-6", "TNS-", "ORA-12", "DPY-4011", "ORA-03113", "ORA-03114", "ORA-03135")
_CONFIG = {"ORA-00900", "ORA-00904", "ORA-00907", "ORA-00911", "ORA-00923", "ORA-00933", "ORA-00936",
           "ORA-00942", "ORA-01456", "ORA-01031", "ORA-00980"}  # fmt: skip


def error_code(exc: BaseException) -> str:
    """Return the ``ORA-nnnnn``/``DPY-nnnn`` code of an oracledb error, or an empty string."""
    err = exc.args[0] if exc.args else None
    full = getattr(err, "full_code", None)
    if isinstance(full, str) and full:
        return full
    match = _CODE.search(str(exc))
    return f"{match.group(1)}-{match.group(2)}" if match else ""


def classify_code(code: str, message: str) -> QueryError:
    """Map an Oracle or python-oracledb error code to a probe reason."""
    text = code or "Oracle error"
    if code in _TIMEOUT:
        return QueryError("timeout", f"{text}: call timeout or lock wait", broken=code.startswith("DPY"))
    if code in _AUTH and code != "ORA-01031":
        return QueryError("auth", f"{text}: not authorised")
    if code in _CONFIG:
        return QueryError("config", f"{text}: {short(message)}")
    if code.startswith(_UNREACHABLE_PREFIX):
        return QueryError("unreachable", f"{text}: connection lost or refused", broken=True)
    return QueryError("error", text)


class OracleConnection(DbConnection):
    """A thin-mode session; each probe runs inside one read-only transaction."""

    engine = "oracle"

    def __init__(self, target: Target, raw: Any) -> None:
        super().__init__(target)
        self.raw = raw
        self.server_version = str(getattr(raw, "version", ""))

    def begin(self) -> None:
        """Start the read-only transaction the probe's queries run in."""
        self.raw.call_timeout = max(1, int(self.target.query_timeout * 1000))
        with self.raw.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
        self.round_trips += 1

    def end(self) -> None:
        """End the read-only transaction."""
        self.raw.rollback()
        self.round_trips += 1

    def _set_timeout(self, seconds: float) -> None:
        # A client-side limit: on expiry thin mode sends a break, which stops the call on the server.
        self.raw.call_timeout = max(1, int(seconds * 1000))

    def _execute(self, sql: str) -> Result:
        with self.raw.cursor() as cur:
            cur.prefetchrows = 200
            cur.arraysize = 200
            cur.execute(sql)
            columns = tuple(d[0] for d in cur.description or ())
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        return Result(columns, rows)

    def interrupt(self) -> None:
        """Send a break to stop the running call."""
        with contextlib.suppress(Exception):
            self.raw.cancel()

    def classify(self, exc: Exception) -> QueryError:
        """Map oracledb errors to probe reasons."""
        return classify_code(error_code(exc), str(exc))

    def close(self) -> None:
        """Close the session."""
        with contextlib.suppress(Exception):
            self.raw.close()


def connect(target: Target, timeout: float) -> OracleConnection:
    """Open a thin-mode Oracle session, or raise `QueryError`."""
    import oracledb

    try:
        raw = oracledb.connect(
            user=target.user,
            password=target.password,
            host=target.host,
            port=target.port,
            service_name=target.database,
            tcp_connect_timeout=max(0.1, timeout),
            retry_count=0,
            program="hospmon-database-exporter",
            # TLS is Oracle's TCPS protocol (its own listener port); preferred means plain TCP here.
            protocol="tcps" if target.tls in ("require", "verify") else "tcp",
            ssl_server_dn_match=target.tls == "verify",
        )
    except oracledb.Error as exc:
        error = classify_code(error_code(exc), str(exc))
        if error.reason == "error":
            detail = f"{error.detail}: cannot connect to {target.host}:{target.port}"
            error = QueryError("unreachable", detail)
        raise error from None
    conn = OracleConnection(target, raw)
    conn.round_trips += 1
    return conn

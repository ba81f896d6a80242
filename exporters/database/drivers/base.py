"""What the SQL engine asks of a database driver: connect, bound a query on the server, interrupt it.

Every query runs with two guards. The server enforces the per-query timeout itself (MariaDB
``max_statement_time``, MySQL ``max_execution_time``, PostgreSQL ``statement_timeout``, Oracle call
timeout), so a hung statement is stopped where it runs. A watchdog fires shortly after that timeout in case
the server did not stop it (network stall, a statement the server-side limit does not cover): it
interrupts the call from another thread (``KILL QUERY``, a PostgreSQL cancel request, an Oracle break) and
marks the connection broken so it is closed, never reused.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WATCHDOG_GRACE_SECONDS = 0.25
"""How long after the server-side timeout the watchdog interrupts a call from the client side."""


@dataclass(frozen=True)
class Target:
    """A resolved database to connect to, with its account and limits."""

    name: str
    engine: str
    host: str
    port: int
    database: str | None
    user: str
    password: str = field(repr=False)
    pool_size: int = 2
    connect_timeout: float = 3.0
    query_timeout: float = 5.0
    idle_timeout: float = 120.0
    tls: str = "preferred"
    tls_ca_file: str | None = None
    require_auth: str = "scram-sha-256"
    """PostgreSQL: the only authentication methods answered (libpq ``require_auth``)."""

    @property
    def key(self) -> tuple[str, str, int, str | None, str, str]:
        """Identify the pool this target shares: same server, database, account and TLS mode."""
        return (self.engine, self.host, self.port, self.database, self.user, self.tls)


class QueryError(Exception):
    """A connection or query failed with one of the probe `REASONS`; `broken` retires the connection."""

    def __init__(self, reason: str, detail: str, *, broken: bool = False) -> None:
        self.reason = reason
        self.detail = detail
        self.broken = broken
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Result:
    """Column names and rows of one statement."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """Return the rows as dicts keyed by lower-case column name."""
        cols = [c.lower() for c in self.columns]
        return [dict(zip(cols, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        """Return the first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None


class Watchdog:
    """One thread that runs interrupt callbacks for calls that outlive their time."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, after: float, callback: Callable[[], None]) -> int:
        """Run `callback` in `after` seconds unless `disarm` is called first; return its handle."""
        with self._cond:
            handle = next(self._ids)
            heapq.heappush(self._heap, (time.monotonic() + after, handle, callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hospmon-db-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return handle

    def disarm(self, handle: int) -> None:
        """Cancel a pending callback."""
        with self._cond:
            self._cancelled.add(handle)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][1] in self._cancelled:
                        self._cancelled.discard(heapq.heappop(self._heap)[1])
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        _, _, callback = heapq.heappop(self._heap)
                        break
                    self._cond.wait(wait)
            with contextlib.suppress(Exception):  # an interrupt that fails leaves the call to its own timeout
                callback()


WATCHDOG = Watchdog()


def shutdown_socket(fd: int) -> None:
    """Shut a connected socket down by descriptor so a thread blocked reading it wakes with an error."""
    if fd < 0:
        return
    dup = os.dup(fd)
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return
    with sock, contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class DbConnection(ABC):
    """One open session to a database server, used by one thread at a time."""

    engine: str = ""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.flavor = self.engine
        self.server_version = ""
        self.round_trips = 0
        self.broken = False
        self.statements = 0
        self.idle_since = time.monotonic()
        self.spare: Callable[[], DbConnection | None] | None = None
        """Set by the pool: lends another of its connections (or opens one within the limit) for a kill."""
        self.give_back: Callable[[DbConnection], None] | None = None
        self._interrupted = False

    def query(self, sql: str, timeout: float, grace: float = WATCHDOG_GRACE_SECONDS) -> Result:
        """Run one statement with a server-side `timeout`; the watchdog interrupts it `grace` s later."""
        self._interrupted = False
        handle = WATCHDOG.arm(timeout + grace, self._watchdog_fired)
        try:
            self._set_timeout(timeout)  # a round trip too: it hangs on a frozen server like any other
            result = self._execute(sql)
        except Exception as exc:
            raise self._failure(exc) from None
        finally:
            WATCHDOG.disarm(handle)
            self.round_trips += 1
            self.statements += 1
        return result

    def _failure(self, exc: Exception) -> QueryError:
        if self._interrupted:
            self.broken = True
            detail = "interrupted by the watchdog after the server-side timeout"
            return QueryError("timeout", detail, broken=True)
        error = self.classify(exc)
        # After a timeout the session is closed, not pooled: a server that hangs keeps no monitoring session.
        self.broken = self.broken or error.broken or error.reason == "timeout"
        return error

    def _watchdog_fired(self) -> None:
        self._interrupted = True
        self.broken = True
        self.interrupt()

    def begin(self) -> None:  # noqa: B027 - most engines need nothing
        """Prepare the session for one probe (Oracle starts a read-only transaction)."""

    def end(self) -> None:  # noqa: B027 - most engines need nothing
        """Finish the probe's work on the session."""

    @abstractmethod
    def _set_timeout(self, seconds: float) -> None:
        """Make the server stop the next statement after `seconds`."""

    @abstractmethod
    def _execute(self, sql: str) -> Result:
        """Run `sql` and fetch every row."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running statement from another thread."""

    @abstractmethod
    def classify(self, exc: Exception) -> QueryError:
        """Turn a driver exception into a `QueryError` with a reason and a secret-free detail."""

    @abstractmethod
    def close(self) -> None:
        """Close the session, quietly."""


def short(text: object, limit: int = 200) -> str:
    """Return the first line of `text`, at most `limit` characters."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"

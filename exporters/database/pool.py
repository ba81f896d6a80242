"""A small connection pool per database: never more than `pool_size` sessions, waits bounded by deadlines.

Overlapping scrapes do not pile up on the server: a probe that finds every slot busy waits at most until
its deadline, and at most `pool_size` probes wait at once; the rest fail at once with reason ``timeout``.
Connections that failed or were interrupted are closed, never handed out again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from exporters.core.probe import Deadline
from exporters.database.drivers import DbConnection, QueryError, Target, connect

Connector = Callable[[Target, float], DbConnection]
SPARE_CONNECT_SECONDS = 1.0
CONNECT_MARGIN_SECONDS = 0.1
CONNECT_GRACE_SECONDS = 0.05


class _Connect(threading.Thread):
    """One connect, in its own thread: a driver may overrun its timeout (libpq waits at least 2 s).

    When the caller gives up first, the connect keeps its pool slot until it ends, then closes what it got.
    """

    def __init__(self, pool: Pool, timeout: float) -> None:
        super().__init__(name=f"hospmon-db-connect-{pool.target.name}", daemon=True)
        self.pool = pool
        self.timeout = timeout
        self._lock = threading.Lock()
        self._done = False
        self._abandoned = False
        self._conn: DbConnection | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        conn: DbConnection | None = None
        error: BaseException | None = None
        try:
            conn = self.pool._connect(self.pool.target, self.timeout)
        except BaseException as exc:
            error = exc
        with self._lock:
            self._done = True
            self._conn, self._error = conn, error
            abandoned = self._abandoned
        if abandoned:
            if conn is not None:
                conn.close()
            self.pool._forget()

    def outcome(self) -> DbConnection:
        """Return the connection, or raise its error, or `QueryError` timeout if it is still connecting."""
        with self._lock:
            if not self._done:
                self._abandoned = True
                raise QueryError("timeout", f"connect to {self.pool.target.name} did not finish in time")
        if self._conn is None:
            self.pool._forget()
            raise self._error or QueryError("error", "connect failed")
        return self._conn


class Pool:
    """Sessions to one database for one account."""

    def __init__(self, target: Target, connector: Connector = connect) -> None:
        self.target = target
        self._connect = connector
        self._cond = threading.Condition()
        self._idle: list[DbConnection] = []
        self._open = 0  # idle + lent out + being opened: never above target.pool_size
        self._waiting = 0
        self._closed = False
        self.peak_open = 0
        self.round_trips = 0
        """Statements and connects sent to the server by this pool's sessions (added when they close)."""

    @property
    def open_count(self) -> int:
        """Return how many sessions this pool holds or is opening."""
        with self._cond:
            return self._open

    def acquire(self, deadline: Deadline) -> DbConnection:
        """Lend a session, opening one if a slot is free; raise `QueryError` when none comes in time."""
        stale: list[DbConnection] = []
        try:
            with self._cond:
                if self._closed:
                    raise QueryError("error", "the pool is closed after a reload")
                while True:
                    stale.extend(self._take_stale())
                    if self._idle:
                        return self._idle.pop()
                    if self._open < self.target.pool_size:
                        self._open += 1
                        self.peak_open = max(self.peak_open, self._open)
                        break
                    if self._waiting >= self.target.pool_size:
                        raise QueryError("timeout", "connection pool busy: earlier scrapes still running")
                    if deadline.expired():
                        raise QueryError("timeout", "no pooled connection became free before the deadline")
                    self._waiting += 1
                    try:
                        self._cond.wait(deadline.remaining())
                    finally:
                        self._waiting -= 1
        finally:
            for conn in stale:
                conn.close()
        # Leave a little of the deadline for answering: a connect that times out still fails the probe.
        return self._open_new(deadline.cap(self.target.connect_timeout) - CONNECT_MARGIN_SECONDS)

    def _open_new(self, timeout: float) -> DbConnection:
        if timeout <= 0:
            self._forget()
            raise QueryError("timeout", "no time left to connect before the deadline")
        attempt = _Connect(self, timeout)
        attempt.start()
        attempt.join(timeout + CONNECT_GRACE_SECONDS)
        conn = attempt.outcome()
        conn.spare = self._spare
        conn.give_back = self.release
        return conn

    def _forget(self) -> None:
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def _take_stale(self) -> list[DbConnection]:
        limit = time.monotonic() - self.target.idle_timeout
        stale = [c for c in self._idle if c.idle_since <= limit]
        if stale:
            self._idle = [c for c in self._idle if c.idle_since > limit]
            self._open -= len(stale)
        return stale

    def _spare(self) -> DbConnection | None:
        """Lend an idle session or open one within the limit, for a kill; None when the pool is full."""
        with self._cond:
            if self._idle:
                return self._idle.pop()
            if self._open >= self.target.pool_size:
                return None
            self._open += 1
            self.peak_open = max(self.peak_open, self._open)
        try:
            return self._open_new(SPARE_CONNECT_SECONDS)
        except Exception:  # no spare: the caller falls back to what it can do without one
            return None

    def count_round_trips(self, n: int) -> None:
        """Add a finished session's round trips to the pool's total."""
        with self._cond:
            self.round_trips += n

    def release(self, conn: DbConnection) -> None:
        """Take a session back: keep it for the next probe if healthy, else close it."""
        keep = not conn.broken and self.target.idle_timeout > 0
        with self._cond:
            if keep and not self._closed:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
                self._cond.notify()
                return
            self._open -= 1
            self._cond.notify()
        conn.close()

    def close(self) -> None:
        """Close idle sessions now and lent ones when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn in idle:
            conn.close()

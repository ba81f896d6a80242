"""What every SNMP session offers (get, getnext, getbulk), walks built on it, and the concurrency limits."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from exporters.core.probe import Deadline, ProbeFailed
from exporters.network.ber import END_OF_MIB_VIEW, EXCEPTIONS, GET, GETBULK, GETNEXT, Oid, VarBind, format_oid

# RFC 3416 error-status values we treat specially.
TOO_BIG = 1
NO_SUCH_NAME = 2
AUTHORIZATION_ERROR = 16
MAX_GET_OIDS = 32  # variable bindings per GET request, well below what agents accept


class Session(Protocol):
    """One target and one auth: sends requests and returns the variable bindings of the answer."""

    version: int
    """0 for SNMPv1, 1 for v2c, 3 for v3."""

    def request(
        self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int, deadline: Deadline
    ) -> list[VarBind]:
        """Send one GET, GETNEXT or GETBULK and return its bindings, or raise `SnmpErrorStatus`."""
        ...

    def close(self) -> None:
        """Release the socket or engine."""
        ...


class SnmpErrorStatus(Exception):
    """The agent answered with a non-zero error-status."""

    def __init__(self, status: int, index: int) -> None:
        self.status = status
        self.index = index
        super().__init__(f"error-status {status} at index {index}")


def error_to_failure(err: SnmpErrorStatus, what: str) -> ProbeFailed:
    """Map an error-status to a probe failure."""
    if err.status == AUTHORIZATION_ERROR:
        return ProbeFailed("auth", f"{what}: the agent refused access (authorizationError)")
    return ProbeFailed("rejected", f"{what}: the agent answered error-status {err.status}")


class Limiter:
    """Caps requests in flight: overall and per target. Waiting counts against the probe deadline."""

    def __init__(self, overall: int, per_target: int) -> None:
        self._overall = threading.BoundedSemaphore(overall)
        self._per_target_size = per_target
        self._per_target: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, target: str, deadline: Deadline) -> Iterator[None]:
        """Hold one request slot for `target`, failing with timeout if none frees before the deadline."""
        with self._lock:
            sem = self._per_target.get(target)
            if sem is None:
                sem = self._per_target[target] = threading.BoundedSemaphore(self._per_target_size)
        if not sem.acquire(timeout=deadline.remaining()):
            raise ProbeFailed("timeout", "no free request slot for this target before the deadline")
        try:
            if not self._overall.acquire(timeout=deadline.remaining()):
                raise ProbeFailed("timeout", "no free request slot before the deadline")
            try:
                yield
            finally:
                self._overall.release()
        finally:
            sem.release()


def walk(session: Session, root: Oid, max_repetitions: int, deadline: Deadline) -> list[VarBind]:
    """Return every binding below `root`, with GETBULK (v2c, v3) or GETNEXT (v1)."""
    return walk_many(session, [root], max_repetitions, deadline)[0]


def walk_many(
    session: Session, roots: Sequence[Oid], max_repetitions: int, deadline: Deadline
) -> list[list[VarBind]]:
    """Walk several subtrees at once, one variable binding per subtree in each request, and return the
    bindings of each. A GETBULK answer holds up to ``max_repetitions`` rows of every subtree still open,
    interleaved (RFC 3416 4.2.3), so N subtrees take about 1/N of the round trips of N single walks."""
    out: list[list[VarBind]] = [[] for _ in roots]
    current = list(roots)
    active = list(range(len(roots)))
    reps = max_repetitions
    while active:
        asked = [current[i] for i in active]
        try:
            if session.version == 0:
                answer = session.request(GETNEXT, asked, 0, deadline)
            else:
                answer = session.request(GETBULK, asked, reps, deadline)
        except SnmpErrorStatus as err:
            if session.version == 0 and err.status == NO_SUCH_NAME and 1 <= err.index <= len(active):
                del active[err.index - 1]  # SNMPv1: that subtree ran to the end of the MIB
                continue
            if err.status == TOO_BIG and reps > 1:
                reps = max(1, reps // 2)
                continue
            raise error_to_failure(err, f"walk {', '.join(format_oid(r) for r in roots)}") from None
        if not answer:
            return out
        width = len(active)
        closed: set[int] = set()
        for k, (oid, tag, value) in enumerate(answer):
            i = active[k % width]
            if i in closed:
                continue
            root = roots[i]
            if tag == END_OF_MIB_VIEW or oid[: len(root)] != root:
                closed.add(i)
                continue
            if oid <= current[i]:
                raise ProbeFailed("bad_response", f"walk {format_oid(root)}: OIDs not increasing")
            out[i].append((oid, tag, value))
            current[i] = oid
        active = [i for i in active if i not in closed]
    return out


def get(session: Session, oids: Sequence[Oid], deadline: Deadline) -> list[VarBind]:
    """Return the bindings of `oids` that exist, leaving out noSuchObject and noSuchInstance."""
    out: list[VarBind] = []
    pending = list(oids)
    while pending:
        batch = pending[:MAX_GET_OIDS]
        try:
            answer = session.request(GET, batch, 0, deadline)
        except SnmpErrorStatus as err:
            if err.status == NO_SUCH_NAME and 1 <= err.index <= len(batch):
                # SNMPv1 reports one missing OID at a time: drop it and ask again for the others.
                del pending[err.index - 1]
                continue
            raise error_to_failure(err, "get") from None
        out.extend(vb for vb in answer if vb[1] not in EXCEPTIONS)
        del pending[: len(batch)]
    return out

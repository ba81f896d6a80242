"""Send one message over MLLP (0x0B message 0x1C 0x0D) and read the framed answer, within a deadline."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from exporters.core.probe import Deadline, ProbeFailed

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"


class FramingError(ValueError):
    """The peer's answer is not one MLLP frame."""


@dataclass(frozen=True)
class Exchange:
    """The answer of one MLLP exchange and how long its steps took."""

    payload: bytes
    connect_seconds: float
    round_trip_seconds: float


def frame(payload: bytes) -> bytes:
    """Wrap a message in MLLP's start and end blocks."""
    return START_BLOCK + payload + END_BLOCK


def _read_frame(sock: socket.socket, timeout: float, deadline: Deadline, limit: int) -> bytes:
    buffer = b""
    while END_BLOCK not in buffer:
        wait = deadline.cap(timeout)
        if wait <= 0:
            raise TimeoutError
        sock.settimeout(wait)
        chunk = sock.recv(4096)
        if not chunk:
            raise FramingError("connection closed before the end block" if buffer else "closed, no answer")
        buffer += chunk
        if not buffer.startswith(START_BLOCK):
            raise FramingError("answer does not start with the MLLP start block")
        if len(buffer) > limit:
            raise FramingError("answer larger than max_ack_bytes")
    payload, _, rest = buffer[1:].partition(END_BLOCK)
    if rest:
        raise FramingError("bytes after the end block")
    return payload


def exchange(
    host: str, port: int, payload: bytes, timeout: float, deadline: Deadline, limit: int
) -> Exchange:
    """Connect, send `payload` framed, and return the framed answer; failures raise `ProbeFailed`.

    Every wait is `timeout` capped by the deadline.
    """
    if deadline.expired():
        raise ProbeFailed("timeout", "no time left before the deadline")
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=deadline.cap(timeout)) as sock:
            connected = time.perf_counter()
            sock.sendall(frame(payload))
            answer = _read_frame(sock, timeout, deadline, limit)
            answered = time.perf_counter()
    except TimeoutError as exc:
        raise ProbeFailed("timeout", "no answer") from exc
    except FramingError as exc:
        raise ProbeFailed("bad_response", str(exc)) from exc
    except OSError as exc:
        raise ProbeFailed("unreachable", exc.strerror or type(exc).__name__) from exc
    return Exchange(answer, connected - start, answered - connected)

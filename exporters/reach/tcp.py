"""TCP connect, optional TLS, then send/expect steps: a modality's DICOM port, an HL7 listener, a ward
printer's 9100, a kiosk's service port. Phases: ``resolve``, ``connect``, ``tls``, ``exchange``::

    hospmon_tcp_phase_duration_seconds{module="jetdirect",phase="connect"} 0.0003
    hospmon_tcp_steps_passed{module="jetdirect"} 2.0
    hospmon_tcp_tls_cert_expiry_timestamp_seconds{module="hl7_tls"} 1.81e+09

What the peer sends is matched and dropped, never logged or put in a label: an HL7 listener's answer may
name a patient.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.http import (
    X509_V_ERR_CERT_HAS_EXPIRED,
    certificate_expiry,
    tls_metrics,
    unverified_expiry,
)
from exporters.core.probe import Deadline, ProbeFailed
from exporters.core.target import split_target
from exporters.reach.config import Step, TcpSpec
from exporters.reach.resolve import resolve

PHASES = ("resolve", "connect", "tls", "exchange")


@dataclass
class TcpResult:
    """What one conversation learnt."""

    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    steps_passed: int = 0
    cert_not_after: float | None = None
    tls_version: str | None = None


def budget(deadline: Deadline, limit: float, what: str) -> float:
    """Return the seconds a step may wait: its limit within the deadline; ``timeout`` when none is left."""
    seconds = deadline.cap(limit)
    if seconds <= 0:
        raise ProbeFailed("timeout", f"deadline reached before {what}")
    return seconds


def connect(sock: socket.socket, address: tuple[Any, ...], deadline: Deadline, limit: float) -> None:
    """Connect `sock` within `limit` and the deadline; a timeout or a refusal is the probe's failure."""
    sock.settimeout(budget(deadline, limit, "connect"))
    try:
        sock.connect(address)
    except TimeoutError:
        raise ProbeFailed("timeout", "connect timed out") from None
    except OSError as exc:
        raise ProbeFailed("unreachable", f"connect failed: {exc.strerror}") from None


def _tls(
    sock: socket.socket,
    spec: TcpSpec,
    host: str,
    peer: tuple[int, int, int, Any],
    deadline: Deadline,
    result: TcpResult,
) -> ssl.SSLSocket:
    tls = spec.tls_config
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    sock.settimeout(budget(deadline, spec.timeout_seconds, "TLS"))
    try:
        wrapped = context.wrap_socket(sock, server_hostname=tls.server_name or host)
    except ssl.SSLCertVerificationError as exc:
        # Read the refused certificate's notAfter anyway: an expired one must show its expiry.
        result.cert_not_after = unverified_expiry(
            peer, tls.server_name or host, spec.timeout_seconds, deadline
        )
        expired = exc.verify_code == X509_V_ERR_CERT_HAS_EXPIRED
        raise ProbeFailed(
            "auth", "TLS certificate expired" if expired else "TLS certificate not trusted"
        ) from None
    except TimeoutError:
        raise ProbeFailed("timeout", "TLS handshake timed out") from None
    except OSError:
        raise ProbeFailed("bad_response", "TLS handshake failed") from None
    result.tls_version = wrapped.version()
    result.cert_not_after = certificate_expiry(wrapped)
    return wrapped


def tcp_probe(target: str, spec: TcpSpec, deadline: Deadline, result: TcpResult) -> TcpResult:
    """Connect to `target` (``host:port``, or the module's port), shake hands if asked, run the steps."""
    host, port = split_target(target)
    port = port or spec.port
    if port is None:
        raise ProbeFailed("config", "give the port in the target (host:port) or in the module's tcp.port")
    start = time.perf_counter()
    family, address = resolve(host, port, "ip4", deadline)
    result.phases["resolve"] = time.perf_counter() - start
    start = time.perf_counter()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        connect(sock, address, deadline, spec.timeout_seconds)
        result.phases["connect"] = time.perf_counter() - start
        if spec.tls:
            start = time.perf_counter()
            sock = _tls(sock, spec, host, (family, socket.SOCK_STREAM, 0, address), deadline, result)
            result.phases["tls"] = time.perf_counter() - start
        start = time.perf_counter()
        _converse(sock, spec, deadline, result)
        result.phases["exchange"] = time.perf_counter() - start
    finally:
        sock.close()
    return result


def _converse(sock: socket.socket, spec: TcpSpec, deadline: Deadline, result: TcpResult) -> None:
    received = b""
    for number, step in enumerate(spec.steps, 1):
        payload = step.payload()
        if payload is not None:
            sock.settimeout(budget(deadline, spec.timeout_seconds, f"step {number}"))
            try:
                sock.sendall(payload)
            except OSError as exc:
                raise ProbeFailed("rejected", f"step {number}: the peer closed the connection") from exc
        else:
            received = _expect(sock, step, number, received, spec, deadline)
        result.steps_passed = number


def _expect(
    sock: socket.socket, step: Step, number: int, received: bytes, spec: TcpSpec, deadline: Deadline
) -> bytes:
    """Read until the step's pattern matches; return what follows the match for the next step."""
    until = time.monotonic() + deadline.cap(spec.timeout_seconds)
    while True:
        end = _match(step, received)
        if end is not None:
            return received[end:]
        if len(received) >= spec.max_read_bytes:
            raise ProbeFailed(
                "check_failed", f"step {number}: no match in the first {spec.max_read_bytes} bytes"
            )
        left = until - time.monotonic()
        if left <= 0:
            raise ProbeFailed("timeout", f"step {number}: expected answer not received in time")
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            raise ProbeFailed("timeout", f"step {number}: expected answer not received in time") from None
        except OSError as exc:
            raise ProbeFailed("rejected", f"step {number}: connection reset: {exc.strerror}") from None
        if not chunk:
            raise ProbeFailed("check_failed", f"step {number}: the peer closed without the expected answer")
        received += chunk


def _match(step: Step, received: bytes) -> int | None:
    if step.expect is not None:
        found = step.expect.search(received)
        return found.end() if found else None
    wanted = bytes.fromhex(step.expect_hex or "")
    at = received.find(wanted)
    return at + len(wanted) if at >= 0 else None


def tcp_metrics(module: str, result: TcpResult) -> list[Metric]:
    """Return phase durations, steps passed and, over TLS, the version and the certificate's expiry."""
    phases = GaugeMetricFamily(
        "hospmon_tcp_phase_duration_seconds",
        "Time spent in each phase of the connection.",
        labels=["module", "phase"],
    )
    for phase, seconds in result.phases.items():
        phases.add_metric([module, phase], seconds)
    steps = GaugeMetricFamily(
        "hospmon_tcp_steps_passed",
        "Send/expect steps completed before success or failure.",
        labels=["module"],
    )
    steps.add_metric([module], result.steps_passed)
    return [phases, steps, *tls_metrics("hospmon_tcp", module, result.cert_not_after, result.tls_version)]

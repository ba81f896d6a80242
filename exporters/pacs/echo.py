"""DICOM C-ECHO (verification) of one AE, bounded by the probe's deadline."""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from exporters.core.probe import Deadline, ProbeFailed

# A-ASSOCIATE-RJ (PS3.8 9.3.4): (source, diagnostic) -> a label from a fixed set.
REJECT_REASONS = {
    (1, 1): "no_reason_given",
    (1, 2): "application_context_not_supported",
    (1, 3): "calling_ae_not_recognised",
    (1, 7): "called_ae_not_recognised",
    (2, 1): "no_reason_given",
    (2, 2): "protocol_version_not_supported",
    (3, 1): "temporary_congestion",
    (3, 2): "local_limit_exceeded",
}
REJECT_RESULTS = {1: "permanent", 2: "transient"}
REJECT_SOURCES = {1: "service_user", 2: "service_provider_acse", 3: "service_provider_presentation"}

# pynetdicom logs every failed association at ERROR; the exporter logs the failure once itself.
logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class EchoResult:
    """What a successful C-ECHO measured."""

    association_seconds: float
    echo_seconds: float


def _rejection(called_ae: str, result: int, source: int, diagnostic: int) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "hospmon_dicom_association_rejected",
        "The peer rejected the association: 1 for the result, source and reason it gave.",
        labels=["called_ae", "result", "source", "reason"],
    )
    family.add_metric(
        [
            called_ae,
            REJECT_RESULTS.get(result, "other"),
            REJECT_SOURCES.get(source, "other"),
            REJECT_REASONS.get((source, diagnostic), "other"),
        ],
        1.0,
    )
    return family


def _connect(host: str, port: int, timeout: float) -> None:
    """Open and close a TCP connection, raising `ProbeFailed` with unreachable or timeout.

    pynetdicom 3.0 reports a refused and a timed-out connect alike, and leaves the socket of a failed
    connect unclosed; this check tells the two apart first.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError as exc:
        raise ProbeFailed("timeout", "TCP connect did not complete") from exc
    except OSError as exc:
        raise ProbeFailed("unreachable", exc.strerror or type(exc).__name__) from exc


def c_echo(
    host: str, port: int, calling_ae: str, called_ae: str, timeout: float, deadline: Deadline
) -> EchoResult:
    """Associate with `called_ae` at `host`:`port`, send one C-ECHO and release.

    Every pynetdicom timeout is `timeout` capped by the deadline; failures raise `ProbeFailed`.
    """
    wait = deadline.cap(timeout)
    if wait <= 0:
        raise ProbeFailed("timeout", "no time left before the deadline")
    _connect(host, port, wait)
    ae = AE(ae_title=calling_ae)
    ae.add_requested_context(Verification)
    wait = max(deadline.cap(timeout), 0.001)
    ae.connection_timeout = ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = wait
    start = time.perf_counter()
    assoc = ae.associate(host, port, ae_title=called_ae)
    try:
        associated = time.perf_counter()
        if assoc.is_rejected:
            rj = assoc.acceptor.primitive
            result, source, diagnostic = (
                (rj.result, rj.result_source, rj.diagnostic) if rj is not None else (None, None, None)
            )
            family = _rejection(
                called_ae, result or 0, source or 0, diagnostic if isinstance(diagnostic, int) else 0
            )
            raise ProbeFailed("rejected", "association rejected", metrics=[family])
        if not assoc.is_established:
            if associated - start >= wait * 0.9:
                raise ProbeFailed("timeout", "no answer to the association request")
            raise ProbeFailed("bad_response", "association aborted")
        # The deadline moved on while associating: cap the echo by what is left.
        wait = max(deadline.cap(timeout), 0.001)
        assoc.dimse_timeout = assoc.network_timeout = assoc.acse_timeout = wait
        sent = time.perf_counter()
        status = assoc.send_c_echo()
        echoed = time.perf_counter()
        if "Status" not in status:
            # pynetdicom aborts the association when the DIMSE timeout expires, so time tells the two apart.
            if echoed - sent >= wait * 0.9:
                raise ProbeFailed("timeout", "no C-ECHO response")
            raise ProbeFailed("bad_response", "association aborted during the C-ECHO")
        code = int(status.Status)
        if code != 0:
            raise ProbeFailed("rejected", f"C-ECHO status 0x{code:04X}")
        return EchoResult(associated - start, echoed - sent)
    finally:
        if assoc.is_established:
            assoc.release()
        elif not (assoc.is_rejected or assoc.is_aborted):
            assoc.abort()
        # pynetdicom 3.0 skips close() when shutdown() fails on a socket the peer never answered on.
        transport = assoc.dul.socket
        if transport is not None and transport.socket is not None:
            transport.socket.close()


def echo_metrics(called_ae: str, result: EchoResult) -> list[Metric]:
    """Return the families of a successful C-ECHO.

    Sample::

        hospmon_dicom_association_seconds{called_ae="ARCHIVE"} 0.0031
        hospmon_dicom_echo_seconds{called_ae="ARCHIVE"} 0.0012
    """
    assoc = GaugeMetricFamily(
        "hospmon_dicom_association_seconds",
        "Time from the TCP connect to the accepted association.",
        labels=["called_ae"],
    )
    assoc.add_metric([called_ae], result.association_seconds)
    echo = GaugeMetricFamily(
        "hospmon_dicom_echo_seconds", "Time from C-ECHO-RQ to C-ECHO-RSP.", labels=["called_ae"]
    )
    echo.add_metric([called_ae], result.echo_seconds)
    return [assoc, echo]

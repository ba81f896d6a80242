"""One DICOM association, bounded by the probe's deadline, with a rejection turned into its reason.

Every DIMSE service of the exporter (C-ECHO, C-FIND) opens its association here::

    with association(host, port, "HOSPMON", "ARCHIVE", [Verification], 10.0, deadline) as opened:
        refresh_timeouts(opened.assoc, 10.0, deadline)
        opened.assoc.send_c_echo()

A rejected association fails with reason ``rejected`` and serves::

    hospmon_dicom_association_rejected{called_ae="X",result="permanent",source="service_user",
                                       reason="called_ae_not_recognised"} 1
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import GaugeMetricFamily
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.pdu import A_ASSOCIATE_RJ

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
class Opened:
    """An established association and how long it took to accept."""

    assoc: Association
    seconds: float


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


def refresh_timeouts(assoc: Association, timeout: float, deadline: Deadline) -> float:
    """Cap the association's waits by `timeout` and what is left of the deadline; return the cap."""
    wait = max(deadline.cap(timeout), 0.001)
    assoc.dimse_timeout = assoc.network_timeout = assoc.acse_timeout = wait
    return wait


@contextmanager
def association(
    host: str,
    port: int,
    calling_ae: str,
    called_ae: str,
    contexts: Sequence[Any],
    timeout: float,
    deadline: Deadline,
) -> Iterator[Opened]:
    """Associate with `called_ae` at `host`:`port` proposing `contexts`; release on exit, abort on error.

    Every pynetdicom timeout is `timeout` capped by the deadline; failures raise `ProbeFailed`.
    """
    wait = deadline.cap(timeout)
    if wait <= 0:
        raise ProbeFailed("timeout", "no time left before the deadline")
    _connect(host, port, wait)
    ae = AE(ae_title=calling_ae)
    for context in contexts:
        ae.add_requested_context(context)
    wait = max(deadline.cap(timeout), 0.001)
    ae.connection_timeout = ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = wait
    rejections: list[A_ASSOCIATE_RJ] = []

    def received(event: evt.Event) -> None:
        if isinstance(event.pdu, A_ASSOCIATE_RJ):
            rejections.append(event.pdu)

    start = time.perf_counter()
    # pynetdicom 3.0 sometimes reports a rejection as an abort when the peer closes the connection right
    # after its A-ASSOCIATE-RJ (dcmtk does); the PDU itself tells the truth.
    assoc = ae.associate(host, port, ae_title=called_ae, evt_handlers=[(evt.EVT_PDU_RECV, received)])
    failed = False
    try:
        associated = time.perf_counter()
        if rejections and not assoc.is_established:
            rj = rejections[0]
            family = _rejection(called_ae, rj.result or 0, rj.source or 0, rj.reason_diagnostic or 0)
            raise ProbeFailed("rejected", "association rejected", metrics=[family])
        if not assoc.is_established:
            if associated - start >= wait * 0.9:
                raise ProbeFailed("timeout", "no answer to the association request")
            raise ProbeFailed("bad_response", "association aborted")
        yield Opened(assoc, associated - start)
    except BaseException:
        failed = True
        raise
    finally:
        if assoc.is_established:
            # After a failure the peer may still be answering: abort rather than wait for a release.
            if failed:
                assoc.abort()
            else:
                assoc.release()
        elif not (assoc.is_rejected or assoc.is_aborted):
            assoc.abort()
        # pynetdicom 3.0 skips close() when shutdown() fails on a socket the peer never answered on.
        transport = assoc.dul.socket
        if transport is not None and transport.socket is not None:
            transport.socket.close()


def timed_out(started: float, wait: float) -> bool:
    """Tell a DIMSE timeout from an abort: pynetdicom reports both as an empty status."""
    return time.perf_counter() - started >= wait * 0.9

"""DICOM C-ECHO (verification) of one AE, bounded by the probe's deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from exporters.core.probe import Deadline, ProbeFailed
from exporters.pacs.association import association, refresh_timeouts, timed_out


@dataclass(frozen=True)
class EchoResult:
    """What a successful C-ECHO measured."""

    association_seconds: float
    echo_seconds: float


def c_echo(
    host: str, port: int, calling_ae: str, called_ae: str, timeout: float, deadline: Deadline
) -> EchoResult:
    """Associate with `called_ae` at `host`:`port`, send one C-ECHO and release.

    Every pynetdicom timeout is `timeout` capped by the deadline; failures raise `ProbeFailed`.
    """
    with association(host, port, calling_ae, called_ae, [Verification], timeout, deadline) as opened:
        # The deadline moved on while associating: cap the echo by what is left.
        wait = refresh_timeouts(opened.assoc, timeout, deadline)
        sent = time.perf_counter()
        status = opened.assoc.send_c_echo()
        echoed = time.perf_counter()
        if "Status" not in status:
            # pynetdicom aborts the association when the DIMSE timeout expires, so time tells the two apart.
            if timed_out(sent, wait):
                raise ProbeFailed("timeout", "no C-ECHO response")
            raise ProbeFailed("bad_response", "association aborted during the C-ECHO")
        code = int(status.Status)
        if code != 0:
            raise ProbeFailed("rejected", f"C-ECHO status 0x{code:04X}")
        return EchoResult(opened.seconds, echoed - sent)


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

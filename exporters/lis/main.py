"""hospmon-lis-exporter: HL7 v2 interfaces of the laboratory, probed over MLLP."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.cli import serve
from exporters.core.probe import Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.core.target import host_port
from exporters.lis.config import LisConfig, MllpModule, load_config
from exporters.lis.message import Ack, AckError, control_id, parse_ack, synthetic_message
from exporters.lis.mllp import Exchange, exchange


def mllp_metrics(spec: MllpModule, ack: Ack, result: Exchange) -> list[Metric]:
    """Return the families of one MLLP exchange; MSA-3 text is left out, as it may name a patient.

    Sample::

        hospmon_mllp_ack{code="AA",message_type="ADT^A01"} 1
        hospmon_mllp_connect_seconds 0.0004
        hospmon_mllp_round_trip_seconds 0.012
    """
    code = GaugeMetricFamily(
        "hospmon_mllp_ack",
        "The acknowledgement code (MSA-1) the interface answered the probe's message with.",
        labels=["code", "message_type"],
    )
    code.add_metric([ack.code, spec.message_type], 1.0)
    connect = GaugeMetricFamily("hospmon_mllp_connect_seconds", "Time to open the TCP connection.")
    connect.add_metric([], result.connect_seconds)
    rtt = GaugeMetricFamily(
        "hospmon_mllp_round_trip_seconds", "Time from sending the message to the end of the acknowledgement."
    )
    rtt.add_metric([], result.round_trip_seconds)
    return [code, connect, rtt]


def probe_mllp(host: str, port: int, spec: MllpModule, deadline: Deadline) -> list[Metric]:
    """Send the module's synthetic message and check its acknowledgement; failures raise `ProbeFailed`."""
    control = control_id()
    payload = synthetic_message(spec, control).encode(spec.encoding)
    result = exchange(host, port, payload, spec.timeout_seconds, deadline, spec.max_ack_bytes)
    try:
        ack = parse_ack(result.payload.decode(spec.encoding, errors="replace"))
    except AckError as exc:
        raise ProbeFailed("bad_response", str(exc)) from exc
    if ack.control_id != control:
        raise ProbeFailed("bad_response", "MSA-2 does not echo the message control id")
    metrics = mllp_metrics(spec, ack, result)
    if not ack.positive:
        raise ProbeFailed("rejected", f"negative acknowledgement {ack.code}", metrics=metrics)
    return metrics


class LisExporter(Exporter[LisConfig]):
    """Probe HL7 v2 interfaces; ``/probe?target=HOST:PORT&module=mllp``."""

    name = "lis"
    default_port = 9107
    description = "HL7 v2 interfaces of the laboratory, probed over MLLP with a synthetic message."
    default_module = "mllp"

    def load_config(self, path: Path | None) -> LisConfig:
        """Load and check the config file."""
        return load_config(path)

    def module_names(self, config: LisConfig) -> Collection[str]:
        """Return the configured modules."""
        return config.modules.keys()

    def check_request(self, config: LisConfig, request: ProbeRequest) -> None:
        """Refuse unknown modules and a target that is not host:port."""
        super().check_request(config, request)
        host_port(request.target)

    def probe_module(
        self, config: LisConfig, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Probe the target's MLLP interface."""
        host, port = host_port(request.target)
        return probe_mllp(host, port, config.modules[module], deadline)


def main(argv: list[str] | None = None) -> int:
    """Run the LIS exporter."""
    return serve(LisExporter(), argv)

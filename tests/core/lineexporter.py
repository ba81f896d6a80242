"""A small real exporter for the core's tests: it sends a line over TCP and checks the answer."""

from __future__ import annotations

import socket
from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.probe import Deadline, Exporter, ProbeFailed, ProbeRequest
from hospmon.config import ConfigError, StrictModel, load


class LineModule(StrictModel):
    """Send `send`, expect a line starting with `expect`."""

    send: str = "PING"
    expect: str = "PONG"


class LineConfig(StrictModel):
    """The test exporter's config file."""

    modules: dict[str, LineModule]


class LineExporter(Exporter[LineConfig]):
    """Probe a line-based TCP service."""

    name = "line"
    default_port = 0
    description = "Test exporter"

    def load_config(self, path: Path | None) -> LineConfig:
        if path is None:
            raise ConfigError.single("--config.file", "required")
        return load(LineConfig, path)

    def module_names(self, config: LineConfig) -> Collection[str]:
        return config.modules.keys()

    def probe_module(
        self, config: LineConfig, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        spec = config.modules[module]
        host, _, port = request.target.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=deadline.cap(5)) as sock:
                sock.settimeout(deadline.cap(30))
                sock.sendall(spec.send.encode() + b"\n")
                answer = sock.makefile("rb").readline().decode(errors="replace").strip()
        except TimeoutError as exc:
            raise ProbeFailed("timeout", "no answer") from exc
        except OSError as exc:
            raise ProbeFailed("unreachable", exc.strerror or "") from exc
        if not answer.startswith(spec.expect):
            raise ProbeFailed("check_failed", "unexpected answer")
        gauge = GaugeMetricFamily(
            "hospmon_line_answer_length_bytes", "Length of the answer.", labels=["command"]
        )
        gauge.add_metric([spec.send], len(answer))
        yield gauge

"""hospmon-pacs-exporter: DICOM C-ECHO of PACS nodes, modalities and archives."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeRequest
from exporters.core.target import host_port
from exporters.pacs.config import PacsConfig, check_ae_title, load_config
from exporters.pacs.echo import c_echo, echo_metrics


class PacsExporter(Exporter[PacsConfig]):
    """Probe DICOM nodes; ``/probe?target=HOST:PORT&module=echo&called_ae=ARCHIVE``."""

    name = "pacs"
    default_port = 9108
    description = "DICOM C-ECHO of PACS nodes, modalities and archives."
    default_module = "echo"

    def load_config(self, path: Path | None) -> PacsConfig:
        """Load and check the config file."""
        return load_config(path)

    def module_names(self, config: PacsConfig) -> Collection[str]:
        """Return the configured modules."""
        return config.modules.keys()

    def check_request(self, config: PacsConfig, request: ProbeRequest) -> None:
        """Refuse unknown modules, a target that is not host:port and a bad ``called_ae``."""
        super().check_request(config, request)
        host_port(request.target)
        called = request.params.get("called_ae")
        if called is not None:
            try:
                check_ae_title(called)
            except ValueError as exc:
                raise BadRequest(f"called_ae: {exc}") from exc

    def probe_module(
        self, config: PacsConfig, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """C-ECHO the target's AE."""
        spec = config.modules[module]
        host, port = host_port(request.target)
        called = request.params.get("called_ae") or spec.called_ae
        result = c_echo(host, port, spec.calling_ae, called, spec.timeout_seconds, deadline)
        return echo_metrics(called, result)


def main(argv: list[str] | None = None) -> int:
    """Run the PACS exporter."""
    return serve(PacsExporter(), argv)

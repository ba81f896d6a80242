"""hospmon-pacs-exporter: DICOM nodes (C-ECHO, C-FIND counts, routing), DICOMweb and Orthanc archives."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.httpconfig import check_target
from exporters.core.policy import Access, Checked, check_policy
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeRequest
from exporters.core.target import host_port
from exporters.pacs import find, web
from exporters.pacs.config import (
    DICOM_PROBERS,
    WEB_PROBERS,
    EchoModule,
    FindModule,
    OrthancModule,
    PacsConfig,
    QidoModule,
    RoutingModule,
    StorageModule,
    check_ae_title,
    load_config,
)
from exporters.pacs.echo import c_echo, echo_metrics


def dicom_target(target: str) -> tuple[str | None, str, int]:
    """Split a DICOM target, ``HOST:PORT`` or ``AE@HOST:PORT``, into called AE (or None), host and port."""
    if "://" in target:
        raise BadRequest("DICOM modules take HOST:PORT or AE@HOST:PORT, not a URL")
    ae, sep, address = target.rpartition("@")
    if sep:
        try:
            check_ae_title(ae)
        except ValueError as exc:
            raise BadRequest(f"target AE title: {exc}") from exc
    host, port = host_port(address)
    return (ae if sep else None), host, port


@dataclass
class LoadedPacs:
    """A checked config, its file (auth secrets are read relative to it) and the targets it may probe."""

    config: PacsConfig
    file: Path
    access: Access


class PacsExporter(Exporter[LoadedPacs]):
    """Probe PACS nodes: ``/probe?target=ARCHIVE@HOST:PORT&module=echo`` or a web base URL.

    The called AE title is the ``called_ae`` parameter, else the one before ``@`` in the target, else the
    module's.
    """

    name = "pacs"
    default_port = 9108
    description = "DICOM nodes, DICOMweb and Orthanc archives of the PACS."
    default_module = "echo"

    def read_config(self, path: Path | None) -> Checked[PacsConfig]:
        """Load and check the config file."""
        config = load_config(path)
        assert path is not None
        return check_policy(config, path, self.name)

    def build(self, read: Checked[PacsConfig], path: Path | None) -> LoadedPacs:
        """Keep the config with its file and the allow-list with its PHI guard."""
        assert path is not None
        return LoadedPacs(read.config, path, read.access.access(self.refusals))

    def module_names(self, config: LoadedPacs) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: LoadedPacs, request: ProbeRequest) -> None:
        """Refuse unknown modules, a target that does not fit a module, and a bad ``called_ae``."""
        super().check_request(config, request)
        probers = {config.config.modules[m].prober for m in request.modules}
        if probers & DICOM_PROBERS and probers & WEB_PROBERS:
            raise BadRequest("DICOM modules take HOST:PORT and web modules a URL: probe them separately")
        host: str | None = None
        if probers & DICOM_PROBERS:
            host = dicom_target(request.target)[1]
        if probers & WEB_PROBERS:
            problem = check_target(request.target)
            if problem:
                raise BadRequest(problem)
            host = urlsplit(request.target).hostname
        if probers - {"storage"}:  # a storage module reads a local volume: its target is only a name
            config.access.check(request.target, request.modules, None, host)
        called = request.params.get("called_ae")
        if called is not None:
            try:
                check_ae_title(called)
            except ValueError as exc:
                raise BadRequest(f"called_ae: {exc}") from exc

    def probe_module(
        self, config: LoadedPacs, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the target."""
        pacs, file = config.config, config.file
        spec = pacs.modules[module]
        if isinstance(spec, QidoModule):
            return list(web.qido(module, spec, request.target, pacs.auths, file, deadline))
        if isinstance(spec, OrthancModule):
            return list(web.orthanc(module, spec, request.target, pacs.auths, file, deadline))
        if isinstance(spec, StorageModule):
            return web.volume(module, spec.path)
        target_ae, host, port = dicom_target(request.target)
        called = request.params.get("called_ae") or target_ae or spec.called_ae
        if isinstance(spec, FindModule):
            return find.count_today(host, port, called, spec, deadline)
        if isinstance(spec, RoutingModule):
            return find.routing(host, port, called, spec, deadline)
        assert isinstance(spec, EchoModule)
        result = c_echo(host, port, spec.calling_ae, called, spec.timeout_seconds, deadline)
        return echo_metrics(called, result)


def main(argv: list[str] | None = None) -> int:
    """Run the PACS exporter."""
    return serve(PacsExporter(), argv)


if __name__ == "__main__":
    raise SystemExit(main())

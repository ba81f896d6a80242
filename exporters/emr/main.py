"""hospmon-emr-exporter: FHIR R4 and web probes of the electronic medical record system."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core import policy
from exporters.core.cli import serve
from exporters.core.http import http_metrics, http_probe
from exporters.core.httpconfig import target_url
from exporters.core.probe import Deadline, Exporter, ProbeRequest
from exporters.core.urltargets import Checked, check_url_request
from exporters.emr import fhir
from exporters.emr.config import EmrConfig, load_emr_config
from hospmon.config import ConfigError

LoadedEmr = Checked[EmrConfig]


class EmrExporter(Exporter[LoadedEmr]):
    """Probe an EMR: the target is its FHIR base URL, or its web site for ``http`` modules."""

    name = "emr"
    default_port = 9106
    description = "FHIR R4 and web probes of the electronic medical record (EMR) system."

    def read_config(self, path: Path | None) -> policy.Checked[EmrConfig]:
        """Load and check the config file; secrets are read once here to fail early."""
        if path is None:
            raise ConfigError.single("--config.file", "give the EMR exporter's config file")
        return policy.check_policy(load_emr_config(path), path, self.name)

    def build(self, read: policy.Checked[EmrConfig], path: Path | None) -> LoadedEmr:
        """Keep the config with its file and the allow-list with its PHI guard."""
        assert path is not None
        return LoadedEmr(read.config, path, read.access.access(self.refusals))

    def module_names(self, config: LoadedEmr) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: LoadedEmr, request: ProbeRequest) -> None:
        """Refuse unknown modules and targets that are not http(s) URLs."""
        super().check_request(config, request)
        check_url_request(config.access, request)

    def probe_module(
        self, config: LoadedEmr, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the target."""
        emr, file = config.config, config.file
        spec = emr.modules[module]
        if spec.kind == "fhir_metadata":
            return list(fhir.metadata(module, spec, request.target, emr.auths, file, deadline))
        if spec.kind == "fhir_search":
            return list(fhir.search(module, spec, request.target, emr.auths, file, deadline))
        if spec.kind == "fhir_read":
            return list(fhir.read(module, spec, request.target, emr.auths, file, deadline))
        if spec.kind == "fhir_document":
            return list(fhir.document(module, spec, request.target, emr.auths, file, deadline))
        url = target_url(request.target, spec.http.path)
        return http_metrics(module, http_probe(url, spec.http, emr.auths, file, deadline, module=module))


def main(argv: list[str] | None = None) -> int:
    """Run the EMR exporter."""
    return serve(EmrExporter(), argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())

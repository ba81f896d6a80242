"""hospmon-middleware-exporter: the application servers and integration engines the HIS runs on.

Tomcat through its manager's JMX proxy, Mirth Connect through its REST API, other integration engines
through a JSON status API (``engine_json``). RabbitMQ needs no exporter: its built-in Prometheus plugin
is scraped as a ``native`` CI (see docs/middleware.md).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporters.core import policy
from exporters.core.cli import serve
from exporters.core.probe import Deadline, Exporter, ProbeRequest
from exporters.core.urltargets import Checked, check_url_request
from exporters.middleware.config import MiddlewareConfig, load_middleware_config
from exporters.middleware.jsonengine import json_engine_metrics
from exporters.middleware.mirth import mirth_metrics
from exporters.middleware.request import ModuleProbe
from exporters.middleware.tomcat import tomcat_metrics
from hospmon.config import ConfigError

LoadedMiddleware = Checked[MiddlewareConfig]


class MiddlewareExporter(Exporter[LoadedMiddleware]):
    """Probe an application server or integration engine: the target is its base URL."""

    name = "middleware"
    default_port = 9109
    description = "Tomcat (JMX proxy), Mirth Connect (REST API) and integration engines with a JSON API."

    def read_config(self, path: Path | None) -> policy.Checked[MiddlewareConfig]:
        """Load and check the config file; secrets are read once here to fail early."""
        if path is None:
            raise ConfigError.single("--config.file", "give the middleware exporter's config file")
        return policy.check_policy(load_middleware_config(path), path, self.name)

    def build(self, read: policy.Checked[MiddlewareConfig], path: Path | None) -> LoadedMiddleware:
        """Keep the config with its file and the allow-list with its PHI guard."""
        assert path is not None
        return LoadedMiddleware(read.config, path, read.access.access(self.refusals))

    def module_names(self, config: LoadedMiddleware) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: LoadedMiddleware, request: ProbeRequest) -> None:
        """Refuse unknown modules, targets that are not http(s) URLs and targets not allowed."""
        super().check_request(config, request)
        check_url_request(config.access, request)

    def probe_module(
        self, config: LoadedMiddleware, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the target."""
        cfg = config.config

        def redact(value: str) -> str:
            return config.access.guard.redact("channel", value)

        probe = ModuleProbe(
            module, cfg.modules[module], request.target, cfg.auths, config.file, deadline, redact
        )
        if probe.spec.kind == "tomcat":
            return tomcat_metrics(probe)
        if probe.spec.kind == "mirth":
            return mirth_metrics(probe)
        return json_engine_metrics(probe)


def main(argv: list[str] | None = None) -> int:
    """Run the middleware exporter."""
    return serve(MiddlewareExporter(), argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())

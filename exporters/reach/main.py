"""hospmon-reach-exporter: what answers only ping or a port: ICMP echo, TCP (TLS, send/expect), DNS and
HTTP probes of terminals, kiosks, printers, modalities' DICOM ports, HL7 listeners and the resolvers; and
ClamAV's scanning daemon (engine up, signature age).

``/probe?target=10.1.2.3&module=ping,jetdirect`` probes a host; http modules take a URL target. Every
module reports its phases and, when it fails, one of the core's reasons (timeout, unreachable, rejected,
check_failed, auth, bad_response) with the series it had by then.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.metrics_core import Metric

from exporters.core.cli import serve
from exporters.core.http import http_metrics, http_probe
from exporters.core.httpconfig import check_target, target_url
from exporters.core.policy import Access, Checked, check_policy
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.core.target import split_target
from exporters.reach.clamd import ClamdResult, clamd_metrics, clamd_probe
from exporters.reach.config import ReachConfig, load_reach_config
from exporters.reach.dns import DnsResult, dns_metrics, dns_probe
from exporters.reach.icmp import IcmpResult, icmp_metrics, icmp_probe, socket_info
from exporters.reach.tcp import TcpResult, tcp_metrics, tcp_probe
from hospmon.config import ConfigError


@dataclass
class Loaded:
    """A checked config, its file (auth secrets are read relative to it) and the targets it may probe."""

    config: ReachConfig
    file: Path
    access: Access


def _run(probe: Callable[[Any], object], result: Any, metrics: Callable[[Any], list[Metric]]) -> list[Metric]:
    """Run a probe filling `result`; a failure carries the series learnt before it, so phases still show."""
    try:
        probe(result)
    except ProbeFailed as exc:
        exc.metrics.extend(metrics(result))
        raise
    return metrics(result)


class ReachExporter(Exporter[Loaded]):
    """ICMP, TCP, DNS and HTTP probes for devices that offer nothing richer."""

    name = "reach"
    default_port = 9115
    description = "ICMP, TCP, DNS and HTTP probes for what answers only ping or a port; ClamAV's clamd."

    def read_config(self, path: Path | None) -> Checked[ReachConfig]:
        """Read and check the config file."""
        if path is None:
            raise ConfigError.single("--config.file", "give the reach exporter's config file")
        return check_policy(load_reach_config(path), path, self.name)

    def build(self, read: Checked[ReachConfig], path: Path | None) -> Loaded:
        """Keep the config with its file and the allow-list with its PHI guard."""
        assert path is not None
        return Loaded(read.config, path, read.access.access(self.refusals))

    def module_names(self, config: Loaded) -> Collection[str]:
        """Return the configured modules."""
        return config.config.modules.keys()

    def check_request(self, config: Loaded, request: ProbeRequest) -> None:
        """Refuse unknown modules, targets that do not fit the modules' kinds, and targets not allowed."""
        super().check_request(config, request)
        kinds = {config.config.modules[m].kind for m in request.modules}
        if "http" in kinds and len(kinds) > 1:
            raise BadRequest("http modules take a URL target; probe them apart from the others")
        if "http" in kinds:
            problem = check_target(request.target)
            if problem:
                raise BadRequest(problem)
            host = urlsplit(request.target).hostname
        else:
            host = split_target(request.target)[0]
        config.access.check(request.target, request.modules, None, host)

    def probe_module(
        self, config: Loaded, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Run one module against the target."""
        reach, file = config.config, config.file
        spec = reach.modules[module]
        target = request.target
        if spec.kind == "icmp":
            host = split_target(target)[0]
            return _run(
                lambda r: icmp_probe(host, spec.icmp, deadline, r),
                IcmpResult(),
                lambda r: icmp_metrics(module, r) if r.phases["rtt"] else [socket_info(module, r)],
            )
        if spec.kind == "tcp":
            return _run(
                lambda r: tcp_probe(target, spec.tcp, deadline, r),
                TcpResult(),
                lambda r: tcp_metrics(module, r),
            )
        if spec.kind == "clamd":
            return _run(
                lambda r: clamd_probe(target, spec.clamd, deadline, r),
                ClamdResult(),
                lambda r: clamd_metrics(module, r),
            )
        if spec.kind == "dns":
            assert spec.dns is not None
            dns_spec = spec.dns
            return _run(
                lambda r: dns_probe(target, dns_spec, deadline, r),
                DnsResult(),
                lambda r: dns_metrics(module, r),
            )
        url = target_url(target, spec.http.path)
        return http_metrics(module, http_probe(url, spec.http, reach.auths, file, deadline, module=module))


def main(argv: list[str] | None = None) -> int:
    """Run the reach exporter."""
    return serve(ReachExporter(), argv)

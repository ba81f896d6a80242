"""Small helpers for reading probe results in tests."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from demo.servers.snmpd import Agent
from exporters.core.probe import Deadline, ProbeRequest
from exporters.network.exporter import NetworkExporter, Runtime


def samples(families: Iterable[Metric]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Index samples by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}


def probe(
    exporter: NetworkExporter,
    runtime: Runtime,
    target: str,
    module: str,
    auth: str = "public_v2",
    seconds: float = 10,
) -> list[Metric]:
    """Check and probe one module of `target` with `auth`, as the server would."""
    request = ProbeRequest(target, (module,), {"auth": auth})
    exporter.check_request(runtime, request)
    return list(exporter.probe_module(runtime, request, module, Deadline.after(seconds)))


def value(families: Iterable[Metric], name: str, **labels: str) -> float:
    """Return the one sample named `name` whose labels include `labels`."""
    found = [
        s.value for f in families for s in f.samples if s.name == name and labels.items() <= s.labels.items()
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def cli_values(agent: Agent, oid: str) -> dict[str, str]:
    """Return ``{index: value}`` of one column from ``snmpbulkwalk -On -Oe -Ot -Oq``."""
    out: dict[str, str] = {}
    for line in agent.cli("snmpbulkwalk", "-Oq", "-OU", oid).splitlines():
        name, _, rest = line.partition(" ")
        out[name.removeprefix("." + oid + ".")] = rest.strip().strip('"')
    return out

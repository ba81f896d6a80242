"""Run the modules of one probe concurrently, each bounded by the deadline, and render the result."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from exporters.core.probe import Deadline, Exporter, ProbeFailed, ProbeRequest

log = logging.getLogger("hospmon.probe")


@dataclass
class ModuleResult:
    """What one module of one probe produced."""

    module: str
    metrics: list[Metric] = field(default_factory=list)
    failure: ProbeFailed | None = None
    duration: float = 0.0


class _Worker(threading.Thread):
    """Run one module in a daemon thread, so a stuck protocol call can never hold the answer back."""

    def __init__(
        self, exporter: Exporter[Any], config: Any, request: ProbeRequest, module: str, deadline: Deadline
    ) -> None:
        super().__init__(name=f"probe-{module}-{request.target}", daemon=True)
        self.result = ModuleResult(module)
        self._args = (exporter, config, request, module, deadline)

    def run(self) -> None:
        exporter, config, request, module, deadline = self._args
        start = time.perf_counter()
        try:
            self.result.metrics = list(exporter.probe_module(config, request, module, deadline))
        except ProbeFailed as exc:
            self.result.failure = exc
        except Exception as exc:
            log.warning(
                "probe of %s module %s failed: %s",
                request.target,
                module,
                type(exc).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            self.result.failure = ProbeFailed("error", type(exc).__name__)
        self.result.duration = time.perf_counter() - start


def run_probe(
    exporter: Exporter[Any], config: Any, request: ProbeRequest, deadline: Deadline
) -> list[ModuleResult]:
    """Probe every requested module at once; a module still running at the deadline fails with timeout."""
    start = time.perf_counter()
    workers = [_Worker(exporter, config, request, m, deadline) for m in request.modules]
    for worker in workers:
        worker.start()
    results = []
    for worker in workers:
        worker.join(deadline.remaining())
        if worker.is_alive():
            # The worker keeps its partial result to itself; nothing it adds later is read.
            results.append(
                ModuleResult(
                    worker.result.module,
                    failure=ProbeFailed("timeout", "deadline reached"),
                    duration=time.perf_counter() - start,
                )
            )
        else:
            results.append(worker.result)
    for result in results:
        if result.failure is not None:
            known = {family.name for family in result.failure.metrics}
            extra = exporter.failure_metrics(config, result.module)
            result.failure.metrics.extend(f for f in extra if f.name not in known)
    return results


def _merge(families: Iterable[Metric]) -> Iterator[Metric]:
    """Join families of the same name from different modules, so the exposition stays valid."""
    merged: dict[str, Metric] = {}
    for family in families:
        first = merged.get(family.name)
        if first is None:
            merged[family.name] = family
        else:
            first.samples.extend(family.samples)
    yield from merged.values()


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def probe_registry(results: list[ModuleResult]) -> CollectorRegistry:
    """Return a fresh registry holding the modules' metrics and the probe's own series.

    Sample::

        hospmon_probe_success{module="system"} 1.0
        hospmon_probe_duration_seconds{module="system"} 0.0123
        hospmon_probe_failure{module="ups",reason="timeout"} 1.0
    """
    success = GaugeMetricFamily(
        "hospmon_probe_success", "Whether the module's probe succeeded.", labels=["module"]
    )
    duration = GaugeMetricFamily(
        "hospmon_probe_duration_seconds", "How long the module's probe took.", labels=["module"]
    )
    failure = GaugeMetricFamily(
        "hospmon_probe_failure",
        "Why the module's probe failed: 1 for the reason.",
        labels=["module", "reason"],
    )
    families: list[Metric] = []
    for result in results:
        success.add_metric([result.module], 0.0 if result.failure else 1.0)
        duration.add_metric([result.module], result.duration)
        if result.failure is not None:
            failure.add_metric([result.module, result.failure.reason], 1.0)
            families.extend(result.failure.metrics)
        else:
            families.extend(result.metrics)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([*_merge(families), success, duration, failure]))
    return registry

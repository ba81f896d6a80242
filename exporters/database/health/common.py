"""Building blocks of the built-in health collectors: metric helpers and the collector registry type."""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporters.database.config import HealthSpec
from exporters.database.engine import Session

P = "hospmon_db"

CollectFn = Callable[[Session, HealthSpec], Iterable[Metric]]


@dataclass(frozen=True)
class Collector:
    """One built-in health collector: a name, a function, and whether its result is costly (cached)."""

    name: str
    collect: CollectFn
    costly: bool = False


def num(value: Any) -> float | None:
    """Return a SQL value as a float; None for NULL or anything not numeric."""
    if value is None or isinstance(value, bool | str | bytes):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return float(value) if isinstance(value, bool) else None
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    return None


def gauge(name: str, help_text: str, value: Any, **labels: str) -> GaugeMetricFamily:
    """Return a gauge family with one sample (none when the value is NULL)."""
    family = GaugeMetricFamily(f"{P}_{name}", help_text, labels=list(labels))
    v = num(value)
    if v is not None:
        family.add_metric(list(labels.values()), v)
    return family


def counter(name: str, help_text: str, value: Any, **labels: str) -> CounterMetricFamily:
    """Return a counter family (name without ``_total``) with one sample (none when NULL)."""
    family = CounterMetricFamily(f"{P}_{name}", help_text, labels=list(labels))
    v = num(value)
    if v is not None:
        family.add_metric(list(labels.values()), v)
    return family


def labelled(name: str, help_text: str, labels: Sequence[str], samples: Iterable[tuple[Sequence[str], Any]],
             *, kind: str = "gauge") -> Metric:  # fmt: skip
    """Return a family with one sample per ``(label values, value)``, skipping NULL values."""
    family: Metric = (
        CounterMetricFamily(f"{P}_{name}", help_text, labels=list(labels))
        if kind == "counter"
        else GaugeMetricFamily(f"{P}_{name}", help_text, labels=list(labels))
    )
    for label_values, value in samples:
        v = num(value)
        if v is not None:
            family.add_metric([str(x) for x in label_values], v)  # type: ignore[attr-defined]
    return family


def info(engine: str, flavor: str, version: str) -> GaugeMetricFamily:
    """Return the version ``_info`` family."""
    family = GaugeMetricFamily(
        f"{P}_version_info", "Database engine, flavour and version.", labels=["engine", "flavor", "version"]
    )
    family.add_metric([engine, flavor, version], 1)
    return family


def ages(name: str, what: str, values: Sequence[float], thresholds: Sequence[float]) -> list[Metric]:
    """Return the oldest age and the count over each threshold of a set of ages in seconds."""
    plural = "queries" if name == "query" else f"{name}s"
    oldest = GaugeMetricFamily(f"{P}_oldest_{name}_seconds", f"Age of the oldest {what} (0 when none).")
    oldest.add_metric([], max(values, default=0.0))
    over = GaugeMetricFamily(
        f"{P}_long_{plural}", f"{what.capitalize()}s older than over_seconds.", labels=["over_seconds"]
    )
    for t in thresholds:
        over.add_metric([f"{t:g}"], sum(1 for v in values if v >= t))
    return [oldest, over]


def ratio(hits: float | None, total: float | None) -> GaugeMetricFamily:
    """Return the cache hit ratio since start (rate() the counters for a recent ratio)."""
    family = GaugeMetricFamily(f"{P}_cache_hit_ratio", "Share of block reads served from memory since start.")
    if hits is not None and total:
        family.add_metric([], hits / total)
    return family


def cache_counters(requests: Any, misses: Any) -> list[Metric]:
    """Return the logical read and disk read counters with the hit ratio since start."""
    req, miss = num(requests), num(misses)
    return [
        counter("cache_requests", "Block or page reads requested (logical reads).", req),
        counter("cache_misses", "Block or page reads that went to disk.", miss),
        ratio(None if req is None or miss is None else req - miss, req),
    ]


_INTERVAL = re.compile(r"^\s*\+?(\d+)\s+(\d+):(\d+):(\d+(?:\.\d+)?)\s*$")


def interval_seconds(text: Any) -> float | None:
    """Parse an Oracle ``+DD HH:MI:SS`` interval string (as in ``v$dataguard_stats``) into seconds."""
    if not isinstance(text, str):
        return None
    match = _INTERVAL.match(text)
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)

"""Turn the rows of a custom query into metric families, through the label guard."""

from __future__ import annotations

import decimal
import math
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporters.database.config import MetricSpec, QuerySpec
from exporters.database.drivers import Result
from exporters.database.guard import GuardError, LabelGuard
from hospmon.phi import PhiGuard


class RowsError(Exception):
    """The rows do not fit the metrics the query declares (missing column, non-numeric value)."""


def to_float(value: Any) -> float | None:
    """Convert a SQL value to a sample value; None for NULL; raise `ValueError` when not numeric."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | decimal.Decimal):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError(type(value).__name__)


def _family(spec: MetricSpec, labels: list[str]) -> GaugeMetricFamily | CounterMetricFamily:
    if spec.type == "counter":
        return CounterMetricFamily(spec.name, spec.help, labels=labels)
    return GaugeMetricFamily(spec.name, spec.help, labels=labels)


def build_metrics(query: QuerySpec, result: Result, phi: PhiGuard | None = None) -> list[Metric]:
    """Build the query's metric families from `result`; raise `GuardError` or `RowsError` to refuse it."""
    guard = LabelGuard(query.name, query.label_rules, query.max_series, phi)
    index = {c.lower(): i for i, c in enumerate(result.columns)}
    if len(result.rows) > query.max_series:
        guard.check_cardinality("(any)", len(result.rows))
    families: list[Metric] = []
    for spec in query.metrics:
        missing = [c for c in [*spec.labels, *spec.values] if c.lower() not in index]
        if missing:
            raise RowsError(
                f"query {query.name}: column(s) {', '.join(missing)} not in the result "
                f"(it has {', '.join(result.columns)})"
            )
        labels = [*spec.labels, *([spec.value_label] if spec.value_label else [])]
        family = _family(spec, labels)
        seen: set[tuple[str, ...]] = set()
        for row in result.rows:
            label_values = []
            for column in spec.labels:
                raw = row[index[column.lower()]]
                text = "" if raw is None else str(raw)
                guard.check(column, text)
                label_values.append(text)
            for column in spec.values:
                try:
                    value = to_float(row[index[column.lower()]])
                except ValueError:
                    raise RowsError(f"query {query.name}: value column {column} is not numeric") from None
                if value is None or math.isnan(value):
                    continue
                key = (*label_values, *([column] if spec.value_label else []))
                if key in seen:
                    raise RowsError(f"query {query.name}: metric {spec.name} has rows with the same labels")
                seen.add(key)
                family.add_metric(list(key), value)
            guard.check_cardinality(spec.name, len(seen))
        families.append(family)
    return families


__all__ = ["GuardError", "RowsError", "build_metrics", "to_float"]

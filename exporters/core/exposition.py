"""The Prometheus text format (0.0.4) of a probe's answer, written for speed; prometheus_client's bytes.

`prometheus_client.exposition.generate_latest` checks and escapes every label name of every sample; a
48-port switch's ``if_mib`` answer is 1,351 samples with the same five label names, and that checking was
45% of the network exporter's CPU in the fleet bench. Here each name is checked once per answer. Families of
another type than gauge, counter or untyped, names outside the classic character set, timestamps and
``_created`` samples are left to prometheus_client (`render` returns None). `bench/exposition.py` measures
both on a real answer and fails if their bytes differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString as _go_float

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TYPES = {"gauge": "gauge", "counter": "counter", "unknown": "untyped", "untyped": "untyped"}


def _number(value: float) -> str:
    text: str = _go_float(value)  # type: ignore[no-untyped-call]
    return text


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def render(families: Iterable[Metric]) -> bytes | None:
    """Return the families in text format 0.0.4, or None when one needs prometheus_client's encoder."""
    out: list[str] = []
    heads: dict[str, str] = {}  # label name -> 'name="', checked once
    for metric in families:
        kind = _TYPES.get(metric.type)
        name = metric.name + "_total" if metric.type == "counter" else metric.name
        if kind is None or not _METRIC_NAME.fullmatch(name):
            return None
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {kind}\n")
        checked: set[str] = set()
        for sample in metric.samples:
            if sample.name not in checked:
                if sample.name == metric.name + "_created" or not _METRIC_NAME.fullmatch(sample.name):
                    return None
                checked.add(sample.name)
            if sample.timestamp is not None:
                return None
            labels = sample.labels
            if labels:
                parts = []
                for key in sorted(labels):
                    head = heads.get(key)
                    if head is None:
                        if not _LABEL_NAME.fullmatch(key):
                            return None
                        head = heads[key] = f'{key}="'
                    parts.append(head + _escape(labels[key]) + '"')
                out.append(f"{sample.name}{{{','.join(parts)}}} {_number(sample.value)}\n")
            else:
                out.append(f"{sample.name} {_number(sample.value)}\n")
    return "".join(out).encode("utf-8")

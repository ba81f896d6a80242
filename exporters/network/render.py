"""Turn the variable bindings of one module into Prometheus metric families.

Sample of what the shipped ``if_mib`` module yields for one interface::

    hospmon_snmp_if_in_bytes_total{ifIndex="3",ifName="port0b",ifAlias="",ifDescr="port0b"} 4.2e+07
    hospmon_snmp_if_oper_status{ifIndex="3",ifName="port0b",ifAlias="",ifDescr="port0b",state="up"} 1
    hospmon_snmp_if_oper_status{ifIndex="3",ifName="port0b",ifAlias="",ifDescr="port0b",state="down"} 0

Text a device returns (``DisplayString``: ifAlias, sysContact, sysLocation...) is written by people, and a
clinic may write a patient's or a doctor's name or phone there: every such value passes the PHI guard and a
refused one is exported as ``[redacted]`` (the guard counts and logs the rule, never the value).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from exporters.network.ber import (
    EXCEPTIONS,
    INTEGER,
    IP_ADDRESS,
    NULL,
    OCTET_STRING,
    UNSIGNED,
    Oid,
    Value,
    VarBind,
    format_oid,
    parse_oid,
)
from exporters.network.config import Index, Metric, Module
from hospmon.phi import PhiGuard

PREFIX = "hospmon_snmp_"
Cell = tuple[int, Value]
Column = dict[Oid, Cell]
Family = GaugeMetricFamily | CounterMetricFamily
Clean = Callable[[str, str], str]


def display_string(raw: bytes) -> str:
    """Decode a DisplayString: UTF-8, else GB18030 (common on Chinese devices), else hex."""
    raw = raw.rstrip(b"\x00")
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.hex()


def label_value(tag: int, value: Value, vtype: str, enum: dict[int | str, str]) -> str:
    """Render one cell as a label value according to its declared type."""
    if value is None or tag in EXCEPTIONS or tag == NULL:
        return ""
    if enum:
        key: int | str = (
            format_oid(value) if isinstance(value, tuple) else value if isinstance(value, int) else ""
        )
        if key in enum:
            return enum[key]
    if isinstance(value, tuple):
        return format_oid(value)
    if isinstance(value, int):
        return str(value)
    if tag == IP_ADDRESS or vtype == "IpAddress":
        return ".".join(map(str, value)) if len(value) == 4 else value.hex()
    if vtype == "PhysAddress":
        return ":".join(f"{b:02x}" for b in value)
    if vtype == "InetAddress":
        if len(value) in (4, 16):
            return str(ipaddress.ip_address(value))
        if len(value) in (8, 20):  # address with a zone index (InetAddressIPv4z/IPv6z)
            return f"{ipaddress.ip_address(value[:-4])}%{int.from_bytes(value[-4:], 'big')}"
        return value.hex()
    if vtype in ("OctetString", "ObjectIdentifier"):
        return value.hex()
    return display_string(value)


def number(tag: int, value: Value) -> float | int | None:
    """Return the numeric value of a cell, or None when it has none."""
    if tag == INTEGER or tag in UNSIGNED:
        return value if isinstance(value, int) else None
    if tag == OCTET_STRING and isinstance(value, bytes):
        try:
            return float(value.decode("ascii").strip())  # e.g. UCD laLoad "0.15"
        except (UnicodeDecodeError, ValueError):
            return None
    return None


def scaled(value: float, exponent: int) -> float:
    """Multiply by ``10**exponent``, dividing for negative exponents so that 235 / 10 gives exactly 23.5."""
    return float(value * 10**exponent if exponent >= 0 else value / 10 ** (-exponent))


def apply_scale(value: float, scale: float) -> float | int:
    """Multiply by `scale`, dividing by its inverse when that is a whole number (0.01 -> / 100)."""
    if scale == 1:
        return value
    if 0 < scale < 1:
        inverse = round(1 / scale)
        if abs(1 / scale - inverse) < 1e-9:
            return value / inverse
    return value * scale


def index_parts(index: Oid, specs: list[Index]) -> list[Oid] | None:
    """Split a row index into one part per declared index, or None when it does not fit the layout."""
    out: list[Oid] = []
    pos = 0
    sizes = {"integer": 1, "ipv4": 4, "physaddress": 6}
    for spec in specs:
        if spec.type in sizes:
            part: Oid = index[pos : pos + sizes[spec.type]]
        elif spec.type == "string":
            n = index[pos] if pos < len(index) else -1
            part = index[pos : pos + 1 + n]
            if n < 0 or any(b > 255 for b in part[1:]):
                return None
        else:
            part = index[pos:]
        if not part:
            return None
        out.append(part)
        pos += len(part)
    return out if pos == len(index) else None


def _part_label(part: Oid, kind: str) -> str:
    if kind == "integer":
        return str(part[0])
    if kind == "ipv4":
        return ".".join(map(str, part))
    if kind == "physaddress":
        return ":".join(f"{b:02x}" for b in part)
    if kind == "string":
        return display_string(bytes(part[1:]))
    return format_oid(part)


def index_labels(index: Oid, specs: list[Index]) -> list[str] | None:
    """Decode a row index into label values, or None when it does not fit the declared layout."""
    parts = index_parts(index, specs)
    if parts is None:
        return None
    return [_part_label(part, spec.type) for part, spec in zip(parts, specs, strict=True)]


@dataclass
class CompiledModule:
    """A module with its OIDs parsed once, ready to render many probes."""

    name: str
    module: Module
    walk: list[Oid] = field(init=False)
    get: list[Oid] = field(init=False)
    columns: dict[Oid, str] = field(init=False)
    lengths: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.walk = [parse_oid(w) for w in self.module.walk]
        self.get = [parse_oid(g) for g in self.module.get]
        self.columns = {parse_oid(c): c for m in self.module.metrics for c in m.columns()}
        self.lengths = sorted({len(c) for c in self.columns}, reverse=True)

    def tabulate(self, varbinds: Iterable[VarBind]) -> dict[str, Column]:
        """Sort bindings into the module's columns, keyed by dotted column OID and then row index."""
        table: dict[Oid, Column] = {c: {} for c in self.columns}
        lengths = self.lengths
        for oid, tag, value in varbinds:
            for n in lengths:
                column = table.get(oid[:n])
                if column is not None:
                    column[oid[n:]] = (tag, value)
                    break
        return {self.columns[c]: rows for c, rows in table.items()}

    def render(self, varbinds: Iterable[VarBind], guard: PhiGuard | None = None) -> list[Family]:
        """Return the metric families of this module for one probe's bindings, text through the guard."""
        table = self.tabulate(varbinds)
        families: dict[str, Family] = {}
        cache: dict[tuple[str, Oid], list[str] | None] = {}  # many columns share index labels and lookups
        phi = guard or PhiGuard()
        seen: dict[tuple[str, str], str] = {}

        def clean(label: str, value: str) -> str:
            key = (label, value)
            if key not in seen:
                seen[key] = phi.redact(label, value)
            return seen[key]

        for metric in self.module.metrics:
            _render_metric(metric, table, families, cache, clean)
        return list(families.values())  # every family is a prometheus_client Metric


def _row_labels(metric: Metric, index: Oid, table: dict[str, Column], clean: Clean) -> list[str] | None:
    """Return the index and lookup label values of one row, text cleaned, or None to skip the row."""
    if metric.indexes:
        labels = index_labels(index, metric.indexes)
        if labels is None:
            return None
        labels = [
            clean(spec.label, value) if spec.type == "string" else value
            for spec, value in zip(metric.indexes, labels, strict=True)
        ]
    else:
        labels = [] if index == (0,) else [format_oid(index)]
    parts: dict[str, Oid] = {}
    if any(lk.index for lk in metric.lookups):
        split = index_parts(index, metric.indexes) or []
        parts = {spec.label: part for spec, part in zip(metric.indexes, split, strict=False)}
    for lk in metric.lookups:
        # A lookup may be indexed by some of the row's indexes only (the printer of a supply row).
        key = tuple(n for label in lk.index for n in parts.get(label, ())) if lk.index else index
        cell = table[lk.oid].get(key)
        if cell is None and lk.fallback:
            cell = table[lk.fallback].get(key)
        value = label_value(cell[0], cell[1], lk.type, lk.enum_values) if cell else ""
        labels.append(clean(lk.label, value) if lk.type == "DisplayString" and value else value)
    return labels


def _render_metric(
    metric: Metric,
    table: dict[str, Column],
    families: dict[str, Family],
    cache: dict[tuple[str, Oid], list[str] | None],
    clean: Clean,
) -> None:
    names = [i.label for i in metric.indexes] + [lk.label for lk in metric.lookups] + list(metric.labels)
    const = list(metric.labels.values())
    indexes = chain(table[metric.oid], table[metric.fallback.oid] if metric.fallback else ())
    if not metric.indexes and any(idx != (0,) for idx in indexes):
        names.insert(0, "index")
    signature = repr((metric.indexes, metric.lookups))
    for index, tag, value, scale in _cells(metric, table):
        key = (signature, index)
        if key in cache:
            row = cache[key]
        else:
            row = cache[key] = _row_labels(metric, index, table, clean)
        if row is None:
            continue
        labels = row + const
        if metric.type == "info":
            info = label_value(tag, value, metric.value_type, metric.enum_values)
            if metric.value_regex is not None:
                part = metric.value_regex.search(info)
                info = part.group(1) if part else ""
            if metric.value_type == "DisplayString":
                info = clean(metric.value_label or "value", info)
            _family(families, metric, metric.name, [*names, metric.value_label or "value"]).add_metric(
                [*labels, info], 1
            )
            continue
        if metric.type == "bits":
            if isinstance(value, bytes):
                _add_flags(_family(families, metric, metric.name, [*names, "flag"]), metric, labels, value)
            continue
        num = _text_time(metric, value) if metric.text_time else number(tag, value)
        if num is None:
            continue
        if metric.type == "enum":
            _add_states(_family(families, metric, metric.name, [*names, "state"]), metric, labels, int(num))
            continue
        name = metric.name
        result = _value(metric, table, index, num, scale)
        if result is None:
            continue
        if metric.split_by:
            kind = table[metric.split_by.oid].get(index)
            code = kind[1] if kind and isinstance(kind[1], int) else None
            split = metric.split_by
            name = f"{name}_{split.names.get(code, split.default) if code is not None else split.default}"
            if code in split.scales:
                result = apply_scale(result, split.scales[code])
        _family(families, metric, name, names).add_metric(labels, result)


def _text_time(metric: Metric, value: Value) -> float | None:
    """Return the Unix time of the date inside a text cell (a signature version's build date)."""
    assert metric.text_time is not None
    return metric.text_time.timestamp(display_string(value)) if isinstance(value, bytes) else None


def _cells(metric: Metric, table: dict[str, Column]) -> Iterator[tuple[Oid, int, Value, float]]:
    """Yield each row's cell and scale: the metric's column, else its fallback column for that row."""
    rows = table[metric.oid]
    for index, (tag, value) in rows.items():
        if tag not in EXCEPTIONS:
            yield index, tag, value, metric.scale
    if metric.fallback:
        scale = metric.fallback.scale
        for index, (tag, value) in table[metric.fallback.oid].items():
            own = rows.get(index)
            if (own is None or own[0] in EXCEPTIONS) and tag not in EXCEPTIONS:
                yield index, tag, value, scale


def _value(metric: Metric, table: dict[str, Column], index: Oid, num: float, scale: float) -> float | None:
    if metric.multiply_by:
        factor = table[metric.multiply_by].get(index)
        factor_num = number(*factor) if factor else None
        if factor_num is None:
            return None
        num = num * factor_num
    exponent = 0
    if metric.si_prefix_oid:
        prefix = table[metric.si_prefix_oid].get(index)
        exponent += (int(prefix[1]) - 9) * 3 if prefix and isinstance(prefix[1], int) else 0
    if metric.precision_oid:
        precision = table[metric.precision_oid].get(index)
        exponent -= int(precision[1]) if precision and isinstance(precision[1], int) else 0
    if exponent:
        num = scaled(num, exponent)
    return apply_scale(num, scale)


def _add_states(family: Family, metric: Metric, labels: list[str], current: int) -> None:
    known = False
    for code, state in metric.enum_values.items():
        hit = code == current
        known = known or hit
        family.add_metric([*labels, state], 1 if hit else 0)
    if not known:
        family.add_metric([*labels, str(current)], 1)


def _add_flags(family: Family, metric: Metric, labels: list[str], value: bytes) -> None:
    """Add one 0/1 sample per named bit of a BITS value (bit 0 is the first octet's high bit, RFC 2578)."""
    for bit, flag in metric.enum_values.items():
        n = int(bit)
        on = n // 8 < len(value) and value[n // 8] >> (7 - n % 8) & 1
        family.add_metric([*labels, flag], 1 if on else 0)


def _family(families: dict[str, Family], metric: Metric, name: str, labels: list[str]) -> Family:
    family = families.get(name)
    if family is None:
        full = PREFIX + name
        if metric.type == "counter":
            family = CounterMetricFamily(full, metric.help, labels=labels)
        else:
            family = GaugeMetricFamily(full, metric.help, labels=labels)
        families[name] = family
    return family

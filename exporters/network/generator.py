"""``hospmon snmp generate``: vendor MIB files and a short list of wanted objects become a network exporter
module (walks, gets, metric names, help, types, indexes, enums and lookups), the job snmp_exporter's
generator does for its exporter. A generator file::

    modules:
      apc_ups:
        mibs: [PowerNet-MIB]
        prefix: apc
        walk: [upsBasicBatteryStatus, upsAdvBattery, upsPhaseOutputTable]
        lookups:
          - {index: upsPhaseOutputTableIndex, lookup: upsPhaseOutputName}
        overrides:
          upsAdvBatteryRunTimeRemaining: {name: apc_battery_runtime_seconds, scale: 0.01}
          upsAdvBatteryTemperature: {ignore: true}

Each name in ``walk`` is a table, a group or a single object (or an OID). Types come from the MIB: counters
(Counter32/64) become counters, enumerations enum series, text, OIDs and addresses info series, numbers
gauges; an override changes a name, a type, a scale or leaves an object out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field

from exporters.network.config import Module
from exporters.network.mibs import MibError, MibTree, compile_mibs
from hospmon.config import StrictModel, load, validate

# Textual conventions of the SMI base modules, by name: (kind, value type or enum).
BASE_CONVENTIONS: dict[str, tuple[str, Any]] = {
    "DisplayString": ("text", "DisplayString"),
    "SnmpAdminString": ("text", "DisplayString"),
    "PhysAddress": ("text", "PhysAddress"),
    "MacAddress": ("text", "PhysAddress"),
    "InetAddress": ("text", "InetAddress"),
    "DateAndTime": ("text", "OctetString"),
    "TruthValue": ("enum", {1: "true", 2: "false"}),
    "RowStatus": ("skip", None),
    "StorageType": ("skip", None),
    "InetAddressType": ("enum", {0: "unknown", 1: "ipv4", 2: "ipv6", 3: "ipv4z", 4: "ipv6z", 16: "dns"}),
    "CounterBasedGauge64": ("gauge", None),
    "ZeroBasedCounter64": ("counter", None),
}
BASE_TYPES: dict[str, tuple[str, Any]] = {
    "Counter32": ("counter", None),
    "Counter64": ("counter", None),
    "Counter": ("counter", None),
    "Gauge32": ("gauge", None),
    "Gauge": ("gauge", None),
    "Unsigned32": ("gauge", None),
    "Integer32": ("gauge", None),
    "INTEGER": ("gauge", None),
    "Integer": ("gauge", None),
    "TimeTicks": ("gauge", None),
    "OCTET STRING": ("text", "OctetString"),
    "OctetString": ("text", "OctetString"),
    "IpAddress": ("text", "IpAddress"),
    "NetworkAddress": ("text", "IpAddress"),
    "OBJECT IDENTIFIER": ("text", "ObjectIdentifier"),
    "ObjectIdentifier": ("text", "ObjectIdentifier"),
}
READABLE = {"read-only", "read-write", "read-create"}
INDEX_TYPES = {
    "DisplayString": "string",
    "OctetString": "string",
    "IpAddress": "ipv4",
    "PhysAddress": "physaddress",
}


class Override(StrictModel):
    """Changes to one object's series."""

    name: str | None = None
    type: Literal["gauge", "counter", "enum", "info"] | None = None
    scale: float | None = None
    help: str | None = None
    ignore: bool = False


class Lookup(StrictModel):
    """Label rows indexed by `index` with the `lookup` column of the same row index."""

    index: str
    lookup: str


class Wanted(StrictModel):
    """One module to generate."""

    mibs: list[str] = Field(min_length=1)
    prefix: str = Field(default="", pattern=r"^([a-z][a-z0-9_]*)?$")
    walk: list[str] = Field(min_length=1)
    lookups: list[Lookup] = []
    overrides: dict[str, Override] = {}
    max_repetitions: int | None = Field(default=None, ge=1, le=200)


class GeneratorFile(StrictModel):
    """The generator file: modules by name."""

    modules: dict[str, Wanted]


def snake(name: str) -> str:
    """Turn ``upsAdvBatteryRunTimeRemaining`` into ``ups_adv_battery_run_time_remaining``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.replace("-", "_"))
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def help_text(node: dict[str, Any]) -> str:
    """Return the first sentence of the MIB's DESCRIPTION, on one line, with the object's name."""
    text = " ".join(str(node.get("description", "")).split())
    sentence = re.split(r"(?<=[a-z0-9)])\.\s", text, maxsplit=1)[0].rstrip(".")
    if len(sentence) > 160:
        sentence = sentence[:157].rsplit(" ", 1)[0] + "..."
    source = f"{node['name']}, {node['units']}" if node.get("units") else node["name"]
    return f"{sentence} ({source})." if sentence else f"{source}."


def kind_of(tree: MibTree, syntax: dict[str, Any]) -> tuple[str, Any]:
    """Return how a syntax renders: (gauge|counter|enum|text|skip, enum values or value type)."""
    constraints = syntax.get("constraints", {})
    if "enumeration" in constraints:
        return "enum", {int(v): k for k, v in constraints["enumeration"].items()}
    name = str(syntax.get("type", ""))
    seen = set()
    while name in tree.conventions and name not in seen:  # a vendor's own conventions, to their base
        seen.add(name)
        base = tree.conventions[name].get("type", {})
        if "enumeration" in base.get("constraints", {}):
            return "enum", {int(v): k for k, v in base["constraints"]["enumeration"].items()}
        name = str(base.get("type", ""))
    return BASE_CONVENTIONS.get(name) or BASE_TYPES.get(name) or ("skip", None)


def _index_specs(tree: MibTree, row: dict[str, Any]) -> list[dict[str, str]]:
    if "augmention" in row:
        row = tree.find(row["augmention"]["object"])
    specs = []
    indices = row.get("indices", [])
    for number, index in enumerate(indices):
        try:
            node = tree.find(index["object"])
            kind, vtype = kind_of(tree, node.get("syntax", {}))
        except MibError:  # an index from a MIB not compiled here (ifIndex): an integer
            kind, vtype = "gauge", None
        itype = INDEX_TYPES.get(vtype, "integer") if kind == "text" else "integer"
        if itype == "string" and index.get("implied") and number == len(indices) - 1:
            itype = "rest"
        specs.append({"label": index["object"], "type": itype})
    return specs


def _metric(
    tree: MibTree, node: dict[str, Any], wanted: Wanted, row: dict[str, Any] | None
) -> dict[str, Any] | None:
    override = wanted.overrides.get(node["name"], Override())
    kind, detail = kind_of(tree, node.get("syntax", {}))
    if override.ignore or (kind == "skip" and override.type is None):
        return None
    mtype = override.type or {"text": "info"}.get(kind, kind)
    base = snake(node["name"])
    name = override.name or (
        f"{wanted.prefix}_{base}" if wanted.prefix and not base.startswith(wanted.prefix) else base
    )
    if mtype == "info" and not name.endswith("_info"):
        name += "_info"
    if mtype == "counter":
        name = name.removesuffix("_total")
    metric: dict[str, Any] = {
        "name": name,
        "oid": node["oid"],
        "type": mtype,
        "help": override.help or help_text(node),
    }
    if row is not None:
        metric["indexes"] = _index_specs(tree, row)
    if mtype == "enum":
        if not isinstance(detail, dict):
            raise MibError(f"{node['name']}: type enum needs an enumeration in the MIB")
        metric["enum_values"] = detail
    if mtype == "info":
        metric["value_label"] = node["name"]
        if kind == "enum" and isinstance(detail, dict):
            metric["enum_values"] = detail
        elif isinstance(detail, str) and detail != "DisplayString":
            metric["value_type"] = detail
    if override.scale is not None:
        metric["scale"] = override.scale
    return metric


def generate_module(tree: MibTree, wanted: Wanted) -> dict[str, Any]:
    """Return one module, as the network exporter's YAML holds it, for the wanted objects."""
    walk: list[str] = []
    get: list[str] = []
    metrics: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ref in wanted.walk:
        root = tree.find(ref)
        if root["oid"] in seen:
            continue  # already inside a walked group or table
        if root.get("nodetype") == "scalar":
            get.append(root["oid"] + ".0")
        else:
            walk.append(root["oid"])
        for node in tree.below(tuple(int(p) for p in root["oid"].split("."))):
            if node["oid"] in seen:
                continue
            seen.add(node["oid"])
            if node.get("nodetype") not in ("scalar", "column") or node.get("maxaccess") not in READABLE:
                continue
            row = tree.objects.get(_parent(tree, node)) if node["nodetype"] == "column" else None
            if row is not None and node["name"] in {i["object"] for i in row.get("indices", [])}:
                continue  # an index column: its value is in every row's labels already
            metric = _metric(tree, node, wanted, row)
            if metric is not None:
                metrics.append(metric)
    _add_lookups(tree, wanted, metrics, walk)
    names = [m["name"] for m in metrics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MibError(
            f"two objects make the same metric name: {', '.join(duplicates)}; rename one in overrides"
        )
    module: dict[str, Any] = {"walk": walk, "get": get, "metrics": metrics}
    if wanted.max_repetitions:
        module["max_repetitions"] = wanted.max_repetitions
    validate(Module, module, "generated module", id_field="name")  # loads as a hand-written one would
    return module


def _parent(tree: MibTree, node: dict[str, Any]) -> str:
    oid = tuple(int(p) for p in node["oid"].split("."))
    return tree.by_oid.get(oid[:-1], "")


def _add_lookups(tree: MibTree, wanted: Wanted, metrics: list[dict[str, Any]], walk: list[str]) -> None:
    for spec in wanted.lookups:
        column = tree.find(spec.lookup)
        kind, detail = kind_of(tree, column.get("syntax", {}))
        entry: dict[str, Any] = {"label": spec.lookup, "oid": column["oid"]}
        if kind == "enum":
            entry["enum_values"] = detail
        elif isinstance(detail, str) and detail != "DisplayString":
            entry["type"] = detail
        used = False
        for metric in metrics:
            labels = [i["label"] for i in metric.get("indexes", [])]
            if (
                spec.index in labels
                and spec.lookup not in labels
                and metric.get("value_label") != spec.lookup
            ):
                metric.setdefault("lookups", []).append(entry)
                used = True
        if used and not any(column["oid"].startswith(w + ".") for w in walk):
            walk.append(column["oid"].rsplit(".", 1)[0])  # the lookup's table, so its column is fetched
        metrics[:] = [m for m in metrics if m["oid"] != column["oid"] or not used]


def generate(config: Path, mib_folders: list[Path]) -> dict[str, dict[str, Any]]:
    """Generate every module of a generator file; return them by name."""
    spec = load(GeneratorFile, config, id_field="name")
    out = {}
    for name, wanted in spec.modules.items():
        tree = compile_mibs(mib_folders, wanted.mibs)
        out[name] = generate_module(tree, wanted)
    return out


def write_modules(modules: dict[str, dict[str, Any]], out: Path, source: str) -> list[Path]:
    """Write each module to ``out/<name>.yml`` with a header naming its source; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, module in modules.items():
        path = out / f"{name}.yml"
        header = f"# Generated by `hospmon snmp generate` from {source}: edit that file and regenerate.\n"
        path.write_text(header + yaml.safe_dump(module, sort_keys=False, allow_unicode=True, width=110))
        written.append(path)
    return written

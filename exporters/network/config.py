"""The network exporter's configuration: named auths, modules as data, request defaults and limits.

Shipped modules live in ``exporters/network/modules/*.yml``; a config file may add or replace modules and
must name every auth. Secrets come from environment variables or files, read once at start-up.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.policy import Policy
from exporters.network.ber import parse_oid
from hospmon.config import Check, ConfigError, ConfigFault, Strict, load, load_yaml, validate

MODULES_DIR = Path(__file__).parent / "modules"
DEFAULT_CONFIG = Path(__file__).parent / "network.yml"
NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _oid(text: str) -> str:
    parse_oid(str(text))
    return str(text).strip().lstrip(".")


def _label(text: str) -> str:
    if not LABEL_RE.match(text) or text.startswith("__"):
        raise ValueError(f"not a Prometheus label name: {text!r}")
    return text


OidText = Annotated[str, Check(_oid)]
LabelName = Annotated[str, Check(_label)]
ValueType = Literal[
    "DisplayString", "OctetString", "PhysAddress", "InetAddress", "IpAddress", "ObjectIdentifier", "Integer"
]


@dataclass(frozen=True, kw_only=True)
class Index(Strict):
    """How to turn part of a row's index into a label."""

    label: LabelName
    type: Literal["integer", "string", "ipv4", "physaddress", "rest"] = "integer"


@dataclass(frozen=True, kw_only=True)
class Lookup(Strict):
    """A label taken from another column at the same index (ifName for an ifHCInOctets row)."""

    label: LabelName
    oid: OidText
    type: ValueType = "DisplayString"
    enum_values: dict[int | str, str] = field(default_factory=dict)
    fallback: OidText | None = None
    """Column read where `oid` has no cell."""
    index: list[LabelName] = field(default_factory=list)
    """The row's index labels the lookup table is indexed by; default all."""


@dataclass(frozen=True, kw_only=True)
class Fallback(Strict):
    """A column read, row by row, where the metric's own column has no value (32-bit for 64-bit counters).

    SNMPv1 cannot carry Counter64, and many agents (UPS cards, printers, old hosts) have no ifXTable.
    """

    oid: OidText
    scale: float = 1.0


@dataclass(frozen=True, kw_only=True)
class SplitBy(Strict):
    """Emit rows under ``<name>_<suffix>`` chosen by the integer value of another column (sensor type)."""

    oid: OidText
    names: dict[int, str]
    default: str = "value"
    scales: dict[int, float] = field(default_factory=dict)
    """A factor per value, e.g. % -> ratio."""


@dataclass(frozen=True, kw_only=True)
class TextTime(Strict):
    """A date inside a text value, exported as Unix time (a signature version's build date).

    FortiGate's ``27.00768(2015-09-01 15:10)`` takes ``regex: '[(]([0-9-]+ [0-9:]+)[)]'``.
    """

    regex: re.Pattern[str]
    """Its first group is the date."""
    format: str = "%Y-%m-%d %H:%M"
    """The strptime format of the group (digits only)."""
    timezone: str = "UTC"
    """The zone the device writes its dates in."""

    def __post_init__(self) -> None:
        if self.regex.groups < 1:
            raise ValueError("text_time.regex needs a group around the date")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}: give an IANA name such as UTC") from None

    def timestamp(self, text: str) -> float | None:
        """Return the Unix time of the date in `text`, or None when there is none."""
        found = self.regex.search(text)
        if found is None:
            return None
        try:
            when = dt.datetime.strptime(found.group(1), self.format)
        except ValueError:
            return None
        return when.replace(tzinfo=zoneinfo.ZoneInfo(self.timezone)).timestamp()


@dataclass(frozen=True, kw_only=True)
class Metric(Strict):
    """One column or scalar and the series it becomes."""

    name: str
    oid: OidText
    type: Literal["gauge", "counter", "enum", "info", "bits"]
    help: str
    indexes: list[Index] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    labels: dict[LabelName, str] = field(default_factory=dict)
    enum_values: dict[int | str, str] = field(default_factory=dict)
    value_label: LabelName | None = None
    value_type: ValueType = "DisplayString"
    value_regex: re.Pattern[str] | None = None
    """Info: the label is the first group of this regex (the version before a date)."""
    scale: float = 1.0
    fallback: Fallback | None = None
    multiply_by: OidText | None = None
    si_prefix_oid: OidText | None = None
    precision_oid: OidText | None = None
    split_by: SplitBy | None = None
    text_time: TextTime | None = None

    def __post_init__(self) -> None:
        if self.text_time is not None and self.type != "gauge":
            raise ValueError("text_time makes a gauge: set type: gauge")
        if self.value_regex is not None and (self.type != "info" or self.value_regex.groups < 1):
            raise ValueError("value_regex is for info metrics, with a group around the wanted part")
        if not NAME_RE.match(self.name):
            raise ValueError(f"name {self.name!r}: use lower case, digits and underscores")
        if self.type == "counter" and self.name.endswith("_total"):
            raise ValueError("counter names get _total added; leave it out")
        if self.type == "info" and (not self.name.endswith("_info") or not self.value_label):
            raise ValueError("an info metric needs a name ending in _info and a value_label")
        if self.type in ("enum", "bits") and not self.enum_values:
            raise ValueError(f"a {self.type} metric needs enum_values (for bits: bit number -> flag name)")
        own = {i.label for i in self.indexes}
        for lk in self.lookups:
            if not set(lk.index) <= own:
                raise ValueError(f"lookup {lk.label}: index {lk.index} names labels that are not indexes")
        names = self.label_names()
        if len(set(names)) != len(names):
            raise ValueError(f"metric {self.name}: a label name is used twice in {names}")

    def label_names(self) -> list[str]:
        """Return the label names of this metric's series, in order."""
        names = [i.label for i in self.indexes] + [lk.label for lk in self.lookups] + list(self.labels)
        if self.type == "enum":
            names.append("state")
        elif self.type == "bits":
            names.append("flag")
        elif self.type == "info":
            names.append(str(self.value_label))
        return names

    def columns(self) -> list[str]:
        """Return every OID this metric reads."""
        extra = [self.multiply_by, self.si_prefix_oid, self.precision_oid]
        extra.append(self.split_by.oid if self.split_by else None)
        extra.append(self.fallback.oid if self.fallback else None)
        extra += [lk.fallback for lk in self.lookups]
        return [self.oid, *(lk.oid for lk in self.lookups), *(o for o in extra if o)]


@dataclass(frozen=True, kw_only=True)
class Module(Strict):
    """What to fetch from a target (subtrees to walk, scalars to get) and which series to make of it."""

    walk: list[OidText] = field(default_factory=list)
    get: list[OidText] = field(default_factory=list)
    max_repetitions: Annotated[int, at.Interval(ge=1, le=200)] | None = None
    retries: Annotated[int, at.Interval(ge=0, le=10)] | None = None
    timeout: Annotated[float, at.Interval(gt=0, le=60)] | None = None
    walk_together: bool = True
    """False: one subtree per request, for buggy agents."""
    metrics: list[Metric]

    def __post_init__(self) -> None:
        walks = [parse_oid(w) for w in self.walk]
        gets = [parse_oid(g) for g in self.get]
        for metric in self.metrics:
            for text in metric.columns():
                col = parse_oid(text)
                if not any(col[: len(w)] == w for w in walks) and not any(g[: len(col)] == col for g in gets):
                    raise ValueError(f"metric {metric.name}: {text} is neither walked nor fetched by a get")
        shapes: dict[str, tuple[str, list[str]]] = {}
        for metric in self.metrics:
            shape = shapes.setdefault(metric.name, (metric.type, metric.label_names()))
            if shape != (metric.type, metric.label_names()):
                raise ValueError(f"metrics named {metric.name} differ in type or label names")


@dataclass(frozen=True, kw_only=True)
class Auth(Strict):
    """A named set of credentials. Secrets: ``*_env`` (environment variable) or ``*_file``."""

    version: Literal[1, 2, 3] = 2
    community_env: str | None = None
    community_file: str | None = None
    username: str | None = None
    security_level: Literal["noAuthNoPriv", "authNoPriv", "authPriv"] = "authPriv"
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = "SHA256"
    password_env: str | None = None
    password_file: str | None = None
    priv_protocol: Literal["DES", "AES", "AES192", "AES256", "AES192C", "AES256C"] = "AES"
    priv_password_env: str | None = None
    priv_password_file: str | None = None
    context_name: str = ""
    backend: Literal["fast", "pysnmp"] | None = None
    """Default: fast, or pysnmp for privacy protocols other than AES (128)."""

    def __post_init__(self) -> None:
        if self.version == 3 and not self.username:
            raise ValueError("SNMPv3 needs a username")
        if self.backend == "fast" and self.version == 3 and not self.fast_path_ok():
            raise ValueError(f"the fast backend speaks AES (128) privacy only, not {self.priv_protocol}")
        if self.version != 3 and self.username:
            raise ValueError("username is for SNMPv3; set version: 3")

    def fast_path_ok(self) -> bool:
        """Tell whether our own codec speaks this auth (everything but DES and AES-192/256 privacy)."""
        return self.version != 3 or self.security_level != "authPriv" or self.priv_protocol == "AES"

    def effective_backend(self) -> str:
        """Return the backend used: the one asked for, else fast where it can serve."""
        return self.backend or ("fast" if self.fast_path_ok() else "pysnmp")


@dataclass(frozen=True, kw_only=True)
class Defaults(Strict):
    """Request settings used where a module does not set its own."""

    timeout: Annotated[float, at.Interval(gt=0, le=60)] = 5.0
    retries: Annotated[int, at.Interval(ge=0, le=10)] = 3
    max_repetitions: Annotated[int, at.Interval(ge=1, le=200)] = 25


@dataclass(frozen=True, kw_only=True)
class Limits(Strict):
    """How many requests may be in flight at once."""

    overall: Annotated[int, at.Ge(1)] = 64
    per_target: Annotated[int, at.Ge(1)] = 2


@dataclass(frozen=True, kw_only=True)
class NetworkConfig(Policy):
    """The whole config file: auths, modules, request settings, and the targets it may probe."""

    auths: dict[str, Auth]
    modules: dict[str, Module] = field(default_factory=dict)
    defaults: Defaults = field(default_factory=Defaults)
    limits: Limits = field(default_factory=Limits)


def shipped_modules() -> dict[str, Module]:
    """Load every module shipped in ``modules/*.yml`` (file name = module name)."""
    modules: dict[str, Module] = {}
    faults: list[ConfigFault] = []
    for path in sorted(MODULES_DIR.glob("*.yml")):
        try:
            modules[path.stem] = load(Module, path, id_field="name")
        except ConfigError as exc:
            faults.extend(exc.faults)
    if faults:
        raise ConfigError(faults)
    return modules


def load_config(path: Path | None) -> tuple[NetworkConfig, dict[str, Module]]:
    """Read a config file (or the shipped default) and return it with all modules, shipped ones first."""
    path = path or DEFAULT_CONFIG
    config = validate(NetworkConfig, load_yaml(path), path, id_field="name")
    return config, {**shipped_modules(), **config.modules}

"""Typed configuration of the database exporter and of every user of the SQL engine.

A config file names database accounts (``auths``), connections (``connections``) and probe modules
(``modules``), each module a list of custom queries::

    auths:
      monitor: {user: hospmon, password_env: HOSPMON_DB_PASSWORD}
    connections:
      his-db: {engine: mysql, host: 10.1.2.3, port: 3306, auth: monitor}
    modules:
      his_business:
        queries:
          - name: waiting_patients
            sql: SELECT clinic_type, COUNT(*) AS n FROM queue GROUP BY clinic_type
            label_rules: {clinic_type: {allow: [general, specialist, emergency]}}
            metrics:
              - name: hospmon_his_waiting_patients
                help: Patients waiting.
                labels: [clinic_type]
                values: [n]

The built-in ``health`` module needs no entry. Passwords come from files or environment variables only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.policy import Policy
from hospmon.config import Check, ConfigError, ConfigFault, Strict
from hospmon.phi_patterns import label_name_problem, pattern_problem

Engine = Literal["mysql", "postgres", "oracle"]
DEFAULT_PORTS: dict[str, int] = {"mysql": 3306, "postgres": 5432, "oracle": 1521}
HEALTH_MODULE = "health"

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_QUERY_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Custom queries read; the read-only session and the account's grants stop writes, this stops mistakes early.
_READ_VERBS = frozenset({"select", "with", "show", "values"})


@dataclass(frozen=True, kw_only=True)
class Auth(Strict):
    """A database account: user name and where its password is kept."""

    user: Annotated[str, at.MinLen(1)]
    password_file: str | None = None
    password_env: str | None = None
    engine: Engine | None = None
    """Engine assumed for ``target=HOST:PORT&auth=NAME`` requests that give no ``engine`` parameter."""
    database: str | None = None
    """Database (MySQL schema, PostgreSQL database, Oracle service name) for ``HOST:PORT`` targets."""

    def __post_init__(self) -> None:
        if bool(self.password_file) == bool(self.password_env):
            raise ValueError("give exactly one of password_file or password_env")


@dataclass(frozen=True, kw_only=True)
class Limits(Strict):
    """Pool size and timeouts of one connection; shared defaults apply to ``HOST:PORT`` targets."""

    pool_size: Annotated[int, at.Interval(ge=1, le=16)] = 2
    """Connections this exporter may hold to the server at once, killer connections included."""
    connect_timeout: Annotated[float, at.Interval(gt=0, le=60)] = 3.0
    query_timeout: Annotated[float, at.Interval(gt=0, le=600)] = 5.0
    idle_timeout: Annotated[float, at.Ge(0)] = 120.0
    """Seconds an idle pooled connection is kept for the next scrape; 0 closes it after every probe."""
    tls: Literal["disable", "preferred", "require", "verify"] = "preferred"
    """TLS to the server: ``preferred`` uses it when offered; ``verify`` checks the certificate and name."""
    tls_ca_file: str | None = None
    """CA bundle for ``verify`` (the system's when not given)."""
    pg_require_auth: Literal["scram-sha-256", "gss", "scram-sha-256,gss"] = "scram-sha-256"
    """PostgreSQL methods the exporter answers (libpq ``require_auth``): never ``password`` or ``md5``, so a
    server asking for the password in clear (or a replayable hash) gets nothing. Only stronger may be set."""


@dataclass(frozen=True, kw_only=True)
class Connection(Limits):
    """One named database the exporter may probe: ``/probe?target=NAME``."""

    engine: Engine
    host: Annotated[str, at.MinLen(1)]
    port: Annotated[int, at.Interval(ge=1, le=65535)] | None = None
    database: str | None = None
    """MySQL default schema, PostgreSQL database (default ``postgres``) or Oracle service name."""
    auth: str


@dataclass(frozen=True, kw_only=True)
class LabelRule(Strict):
    """What values one label column may take: an allow-list or a full-match regular expression."""

    allow: list[str] | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if (self.allow is None) == (self.pattern is None):
            raise ValueError("give exactly one of allow or pattern")
        if self.pattern is not None:
            problem = pattern_problem(self.pattern)
            if problem is not None:
                raise ValueError(f"pattern {self.pattern!r} {problem}, or give an allow-list")
        if self.allow is not None and not self.allow:
            raise ValueError("allow lists the values a label may take; it cannot be empty")


def _metric_name(v: str) -> str:
    if not _METRIC_NAME.fullmatch(v):
        raise ValueError("not a valid Prometheus metric name")
    return v


@dataclass(frozen=True, kw_only=True)
class MetricSpec(Strict):
    """One metric family built from a query's rows."""

    name: Annotated[str, Check(_metric_name)]
    type: Literal["gauge", "counter"] = "gauge"
    help: Annotated[str, at.MinLen(1)]
    labels: list[str] = field(default_factory=list)
    """Columns whose values become labels; each needs a rule in the query's ``label_rules``."""
    values: Annotated[list[str], at.MinLen(1)]
    """Numeric columns; with more than one, ``value_label`` names the label holding the column name."""
    value_label: str | None = None

    def __post_init__(self) -> None:
        for label in [*self.labels, *([self.value_label] if self.value_label else [])]:
            if not _LABEL_NAME.fullmatch(label) or label.startswith("__"):
                raise ValueError(f"{label!r} is not a valid label name")
            problem = label_name_problem(label)
            if problem is not None:
                raise ValueError(problem)
        if len(self.values) > 1 and not self.value_label:
            raise ValueError("several values need a value_label to tell them apart")
        if self.type == "counter" and not self.name.endswith("_total"):
            raise ValueError("a counter's name ends in _total")


def _query_name(v: str) -> str:
    if not _QUERY_NAME.fullmatch(v):
        raise ValueError("use lower-case letters, digits and underscores, starting with a letter")
    return v


def _read_statement(v: str | dict[str, str]) -> str | dict[str, str]:
    for text in [v] if isinstance(v, str) else v.values():
        words = text.split(None, 1)
        if not words or words[0].lower() not in _READ_VERBS:
            raise ValueError(f"a query must start with one of {', '.join(sorted(_READ_VERBS))}")
    return v


@dataclass(frozen=True, kw_only=True)
class QuerySpec(Strict):
    """One custom query: SQL (one text or one per engine), its limits and the metrics it yields."""

    name: Annotated[str, Check(_query_name)]
    sql: Annotated[str | dict[Engine, str], Check(_read_statement)]
    timeout: Annotated[float, at.Interval(gt=0, le=600)] | None = None
    """Seconds the server may spend on the query; defaults to the connection's ``query_timeout``."""
    min_interval: Annotated[float, at.Ge(0)] = 0.0
    """Seconds a result is reused before the query runs again; its age is exposed."""
    max_series: Annotated[int, at.Interval(ge=1, le=10000)] = 100
    """Cardinality cap: more label sets than this and the query is refused."""
    label_rules: dict[str, LabelRule] = field(default_factory=dict)
    metrics: Annotated[list[MetricSpec], at.MinLen(1)]

    def __post_init__(self) -> None:
        for metric in self.metrics:
            unguarded = [c for c in metric.labels if c not in self.label_rules]
            if unguarded:
                raise ValueError(
                    f"metric {metric.name}: label column(s) {', '.join(unguarded)} have no entry in "
                    "label_rules; give an allow-list or a pattern so no patient identifier can become a label"
                )

    def sql_for(self, engine: str) -> str | None:
        """Return the SQL text to run on `engine`, or None when the query has none for it."""
        if isinstance(self.sql, str):
            return self.sql
        return next((text for key, text in self.sql.items() if key == engine), None)


@dataclass(frozen=True, kw_only=True)
class ModuleSpec(Strict):
    """A probe module: custom queries run on one pooled connection."""

    queries: Annotated[list[QuerySpec], at.MinLen(1)]

    def __post_init__(self) -> None:
        names = [q.name for q in self.queries]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"query names repeat: {', '.join(dup)}")


@dataclass(frozen=True, kw_only=True)
class HealthSpec(Strict):
    """Settings of the built-in health module."""

    disabled: list[str] = field(default_factory=list)
    """Collectors to skip (for example ``sizes`` on a server with very many tables)."""
    long_query_seconds: list[float] = field(default_factory=lambda: [10.0, 60.0, 300.0, 1800.0])
    sizes_min_interval: Annotated[float, at.Ge(0)] = 300.0
    """Database and tablespace sizes are costly to compute; they are refreshed at most this often."""


@dataclass(frozen=True, kw_only=True)
class SqlAccess(Strict):
    """The databases a SQL-probing exporter may reach: accounts, named connections, ad-hoc limits.

    The database exporter's whole config extends it; the HIS and LIS exporters hold one as a section.
    """

    auths: dict[str, Auth] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    adhoc: Limits = field(default_factory=Limits)
    """Limits used for ``target=HOST:PORT&auth=NAME`` requests (listed, or ad hoc when allowed)."""


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig(SqlAccess, Policy):
    """The whole config file of the database exporter."""

    modules: dict[str, ModuleSpec] = field(default_factory=dict)
    health: HealthSpec = field(default_factory=HealthSpec)


def connection_faults(config: SqlAccess, file: str | Path, section: str = "") -> list[ConfigFault]:
    """Return a fault for every connection naming an unknown auth or holding ':' in its name."""
    faults = [
        ConfigFault(
            str(file), f"{section}connections.{name}", "auth", f"no auth named {conn.auth!r} in auths"
        )
        for name, conn in config.connections.items()
        if conn.auth not in config.auths
    ]
    for name in config.connections:
        if ":" in name:
            faults.append(
                ConfigFault(str(file), f"{section}connections.{name}", "", "a name cannot contain ':'")
            )
    return faults


def check_references(config: DatabaseConfig, file: str | Path) -> None:
    """Raise a `ConfigError` listing every connection naming an unknown auth and every reserved module."""
    faults = connection_faults(config, file)
    if HEALTH_MODULE in config.modules:
        faults.append(ConfigFault(str(file), "modules", HEALTH_MODULE, "the health module is built in"))
    seen: dict[str, str] = {}
    for module_name, module in config.modules.items():
        for query in module.queries:
            if query.name in seen:
                message = f"query {query.name} is also in module {seen[query.name]}; names label series"
                faults.append(ConfigFault(str(file), f"modules.{module_name}", "queries", message))
            seen.setdefault(query.name, module_name)
    if faults:
        raise ConfigError(faults)

"""Config of the HIS exporter: web/API modules, business SQL modules, and the accounts they use.

Example::

    auths:                      # HTTP auths, as in every HTTP-probing exporter
      his-api: {bearer: {token_file: /run/secrets/his-api-token}}
    database:                   # the SQL engine's accounts and connections (the database exporter's format)
      auths:
        his-monitor: {user: hospmon, password_file: /run/secrets/his-db-password}
      connections:
        his-db: {engine: mysql, host: 10.1.2.3, port: 3306, database: his, auth: his-monitor}
    modules:
      web: {kind: http, http: {path: /his/login, body_regex: ["登录"]}}
      business:
        kind: sql
        queries:
          - name: waiting_patients
            sql: SELECT clinic_code AS clinic, COUNT(*) AS waiting FROM registration ... GROUP BY clinic_code
            label_rules: {clinic: {pattern: "[a-z][a-z0-9-]{0,31}"}}
            metrics: [{name: hospmon_his_waiting_patients, help: Patients waiting., labels: [clinic],
                       values: [waiting]}]

An ``http`` module's target is a URL; a ``sql`` module's target is a connection name (or ``HOST:PORT`` with
``auth=`` naming an entry of ``database.auths``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.httpconfig import AuthSpec, HttpSpec, check_auths
from exporters.core.policy import Policy
from exporters.database.config import QuerySpec, SqlAccess, connection_faults
from hospmon.config import ConfigError, Strict, load

# The defaults, told apart from an http block written into a sql module and queries into an http one
# (pydantic keeps what a default factory returns, where it copies a plain default).
_NO_HTTP = HttpSpec()
_NO_QUERIES: list[QuerySpec] = []


@dataclass(frozen=True, kw_only=True)
class HisModule(Strict):
    """One probe module: a web/API request, or business queries run on the HIS database."""

    kind: Literal["http", "sql"]
    http: HttpSpec = field(default_factory=lambda: _NO_HTTP)
    queries: list[QuerySpec] = field(default_factory=lambda: _NO_QUERIES)
    """sql: the queries and the metrics they yield."""

    def __post_init__(self) -> None:
        if self.kind == "sql":
            if not self.queries:
                raise ValueError("a sql module needs queries")
            if self.http is not _NO_HTTP:
                raise ValueError("http is only for http modules")
            names = [q.name for q in self.queries]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"query names repeat: {', '.join(repeated)}")
        elif self.queries is not _NO_QUERIES:
            raise ValueError("queries are only for sql modules")


@dataclass(frozen=True, kw_only=True)
class HisConfig(Policy):
    """The HIS exporter's config file: auths, database access, modules, and the targets it may probe."""

    auths: dict[str, AuthSpec] = field(default_factory=dict)
    database: SqlAccess = field(default_factory=SqlAccess)
    modules: Annotated[dict[str, HisModule], at.MinLen(1)]


def load_his_config(path: Path) -> HisConfig:
    """Read and validate the file and check its references and secrets, raising one `ConfigError`."""
    config = load(HisConfig, path)
    faults = connection_faults(config.database, path, "database.")
    try:
        check_auths(
            path,
            config.auths,
            {name: m.http.auth for name, m in config.modules.items() if m.kind == "http"},
        )
    except ConfigError as exc:
        faults.extend(exc.faults)
    if faults:
        raise ConfigError(faults)
    return config

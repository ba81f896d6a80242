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

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from exporters.core.httpconfig import AuthSpec, HttpSpec, check_auths
from exporters.core.policy import Policy
from exporters.database.config import QuerySpec, SqlAccess, connection_faults
from hospmon.config import ConfigError, StrictModel, load


class HisModule(StrictModel):
    """One probe module: a web/API request, or business queries run on the HIS database."""

    kind: Literal["http", "sql"]
    http: HttpSpec = HttpSpec()
    queries: list[QuerySpec] = Field(default=[], description="sql: the queries and the metrics they yield")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> HisModule:
        if self.kind == "sql":
            if not self.queries:
                raise ValueError("a sql module needs queries")
            if "http" in self.model_fields_set:
                raise ValueError("http is only for http modules")
            names = [q.name for q in self.queries]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"query names repeat: {', '.join(repeated)}")
        elif "queries" in self.model_fields_set:
            raise ValueError("queries are only for sql modules")
        return self


class HisConfig(Policy):
    """The HIS exporter's config file: auths, database access, modules, and the targets it may probe."""

    auths: dict[str, AuthSpec] = {}
    database: SqlAccess = SqlAccess()
    modules: dict[str, HisModule] = Field(min_length=1)


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

"""The LIS exporter's config file: MLLP modules, and SQL modules on named LIS database connections.

Example (see ``deploy/exporters/lis.yml`` for the queries on the demo LIS schema, docs/lis-schema.md)::

    auths:
      lis-monitor: {user: hospmon, password_env: HOSPMON_LIS_DB_PASSWORD}
    connections:
      lis-db: {engine: mysql, host: 10.1.4.20, database: lis, auth: lis-monitor}
    modules:
      mllp: {message_type: ORM^O01}
      lis_flow:
        prober: sql
        queries: [...]        # the database exporter's custom queries, label guard included

MLLP modules take ``target=HOST:PORT``; SQL modules take ``target=CONNECTION`` (a name under connections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.policy import Policy
from exporters.database.config import Auth, Connection, DatabaseConfig, ModuleSpec, check_references
from hospmon.config import Check, ConfigError, OneOf, Strict, load

SEPARATORS = "|^~\\&\r\n"


def check_hl7_field(value: str) -> str:
    """Return `value` when it can sit in an HL7 v2 field as is: printable, no separator characters."""
    if any(ch in SEPARATORS or not ch.isprintable() for ch in value):
        raise ValueError("must be printable and hold none of | ^ ~ \\ & or line breaks")
    return value


Hl7Field = Annotated[str, Check(check_hl7_field)]


@dataclass(frozen=True, kw_only=True)
class MllpModule(Strict):
    """Send one synthetic HL7 v2 message over MLLP and read its acknowledgement.

    The message names no real patient: its patient is ``patient_id`` (``HOSPMON-PROBE`` by default) with the
    name ``PROBE^HOSPMON``, and the processing id ``T`` (training) lets the receiver tell it from real
    traffic. Point it at a test route of the interface engine, or make the LIS discard this patient.
    """

    prober: Literal["mllp"] = "mllp"
    message_type: Literal["ADT^A01", "ORM^O01"] = "ADT^A01"
    sending_application: Hl7Field = "HOSPMON"
    sending_facility: Hl7Field = "MONITORING"
    receiving_application: Hl7Field = "LIS"
    receiving_facility: Hl7Field = "LAB"
    version: Literal["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"] = "2.5"
    processing_id: Literal["P", "T", "D"] = "T"
    patient_id: Annotated[str, at.Len(1, 20), Check(check_hl7_field)] = "HOSPMON-PROBE"
    encoding: Literal["utf-8", "gb18030", "latin-1", "ascii"] = "utf-8"
    timeout_seconds: Annotated[float, at.Gt(0)] = 10.0
    """Cap of each network wait; the scrape deadline caps it further."""
    max_ack_bytes: Annotated[int, at.Gt(0)] = 65536


@dataclass(frozen=True, kw_only=True)
class SqlModule(ModuleSpec):
    """Custom queries on a LIS database connection, through the database exporter's SQL engine."""

    prober: Literal["sql"]


Module = Annotated[MllpModule | SqlModule, OneOf("prober", {"mllp": MllpModule, "sql": SqlModule}, "mllp")]


@dataclass(frozen=True, kw_only=True)
class LisConfig(Policy):
    """The exporter's database accounts, connections and modules, by name, and the targets it may probe."""

    auths: dict[str, Auth] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    modules: Annotated[dict[str, Module], at.MinLen(1)]

    def database_config(self) -> DatabaseConfig:
        """Return the accounts and connections as the SQL engine's config, without ad hoc targets."""
        return DatabaseConfig(auths=self.auths, connections=self.connections)


def load_config(path: Path | None) -> LisConfig:
    """Load and check the config file."""
    if path is None:
        raise ConfigError.single("--config.file", "give the exporter's config file")
    config = load(LisConfig, path)
    check_references(config.database_config(), path)
    return config

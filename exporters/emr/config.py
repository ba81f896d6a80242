"""Config of the EMR exporter: FHIR R4 and plain HTTP modules, and the auths they name.

Example::

    auths:
      fhir-client:
        oauth2: {token_url: "https://sso.example/token", client_id: hospmon, client_secret_file: /run/s}
    modules:
      fhir_metadata: {kind: fhir_metadata, http: {auth: fhir-client}}
      fhir_search: {kind: fhir_search, resource_types: [Patient, Encounter]}
      fhir_read: {kind: fhir_read, resource: Patient/hospmon-synthetic-1}
      portal: {kind: http, http: {path: /emr/login, body_regex: ["Sign in"]}}

The probe's target is the FHIR base URL (``https://emr.example/fhir``) or, for ``http`` modules, the site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.httpconfig import AuthSpec, HttpSpec, check_auths
from exporters.core.policy import Policy
from hospmon.config import Strict, load

RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
RESOURCE_REF = re.compile(r"^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True, kw_only=True)
class EmrModule(Strict):
    """One probe module: what to ask the EMR and how."""

    kind: Literal["fhir_metadata", "fhir_search", "fhir_read", "fhir_document", "http"]
    http: HttpSpec = field(default_factory=HttpSpec)
    resource_types: list[str] = field(default_factory=list)
    """fhir_search: types counted with _summary=count."""
    resource: str | None = None
    """fhir_read, fhir_document: a synthetic test resource, Type/id."""

    def __post_init__(self) -> None:
        if self.kind == "fhir_search":
            if not self.resource_types:
                raise ValueError("fhir_search needs resource_types")
            bad = [t for t in self.resource_types if not RESOURCE_TYPE.match(t)]
            if bad:
                raise ValueError(f"not FHIR resource types: {', '.join(bad)}")
        elif self.resource_types:
            raise ValueError("resource_types is only for fhir_search")
        if self.kind == "fhir_read":
            if self.resource is None or not RESOURCE_REF.match(self.resource):
                raise ValueError("fhir_read needs resource: Type/id, for example Patient/hospmon-test")
        elif self.kind == "fhir_document":
            if (
                self.resource is None
                or not self.resource.startswith("DocumentReference/")
                or not (RESOURCE_REF.match(self.resource))
            ):
                raise ValueError("fhir_document needs resource: DocumentReference/id of a synthetic document")
        elif self.resource is not None:
            raise ValueError("resource is only for fhir_read and fhir_document")
        if self.kind != "http" and self.http.path:
            raise ValueError("FHIR modules build their own path; http.path is only for http modules")


@dataclass(frozen=True, kw_only=True)
class EmrConfig(Policy):
    """The EMR exporter's config file."""

    auths: dict[str, AuthSpec] = field(default_factory=dict)
    modules: Annotated[dict[str, EmrModule], at.MinLen(1)]


def load_emr_config(path: Path) -> EmrConfig:
    """Read, validate and check auths of the config file, raising one `ConfigError` with every fault."""
    config = load(EmrConfig, path)
    check_auths(path, config.auths, {name: m.http.auth for name, m in config.modules.items()})
    return config

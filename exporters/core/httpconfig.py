"""Config of the HTTP probe: request, checks, TLS and named auths, shared by HIS, EMR and PACS exporters.

An exporter's YAML holds ``auths:`` by name and modules that refer to one::

    auths:
      emr-oauth:
        oauth2: {token_url: "https://sso.example/token", client_id: hospmon, client_secret_file: /run/s}
    modules:
      portal:
        http:
          path: /login
          auth: emr-oauth
          body_regex: ["Sign in"]
          json_checks: [{name: up, path: status, op: eq, value: "UP"}]

Secrets come from files or the environment, read at each probe so rotated tokens are picked up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from hospmon.config import ConfigError, ConfigFault, StrictModel, read_secret


class TlsSpec(StrictModel):
    """How to trust the server: a CA bundle, or no verification (then no certificate expiry is known)."""

    ca_file: Path | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False


class JsonCheck(StrictModel):
    """A value at a dotted path of the JSON body (``entry.0.total``) compared with `value`."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    path: str = Field(min_length=1)
    op: Literal["exists", "eq", "ne", "lt", "le", "gt", "ge"] = "exists"
    value: float | bool | str | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> JsonCheck:
        if self.op in {"lt", "le", "gt", "ge"} and not isinstance(self.value, float):
            raise ValueError(f"op {self.op} needs a numeric value")
        if self.op in {"eq", "ne"} and self.value is None:
            raise ValueError(f"op {self.op} needs a value")
        return self


class HttpSpec(StrictModel):
    """One HTTP request and what its answer must be."""

    method: Literal["GET", "HEAD", "POST"] = "GET"
    path: str = ""
    headers: dict[str, str] = {}
    body: str | None = None
    valid_status_codes: list[int] = []
    follow_redirects: bool = True
    max_redirects: int = Field(default=10, ge=0)
    body_regex: list[re.Pattern[str]] = []
    body_not_regex: list[re.Pattern[str]] = []
    json_checks: list[JsonCheck] = []
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    auth: str | None = None
    tls: TlsSpec = TlsSpec()

    @field_validator("headers")
    @classmethod
    def _no_secret_headers(cls, value: dict[str, str]) -> dict[str, str]:
        if any(name.lower() in {"authorization", "cookie"} for name in value):
            raise ValueError("put credentials in auths, not in headers")
        return value

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("give a path; the host comes from the probe's target")
        return value


class BasicSpec(StrictModel):
    """HTTP basic auth; the password from a file or an environment variable."""

    username: str
    password_file: Path | None = None
    password_env: str | None = None


class BearerSpec(StrictModel):
    """A static bearer token from a file or an environment variable."""

    token_file: Path | None = None
    token_env: str | None = None


class OAuth2Spec(StrictModel):
    """OAuth2 client credentials: a fresh token is requested at each probe and its latency measured."""

    token_url: str
    client_id: str
    client_secret_file: Path | None = None
    client_secret_env: str | None = None
    scopes: list[str] = []

    @field_validator("token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        if parts.username or parts.password:
            raise ValueError("no credentials in URLs; use client_secret_file")
        return value


class AuthSpec(StrictModel):
    """One named way to authenticate: exactly one of basic, bearer and oauth2."""

    basic: BasicSpec | None = None
    bearer: BearerSpec | None = None
    oauth2: OAuth2Spec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthSpec:
        if sum(x is not None for x in (self.basic, self.bearer, self.oauth2)) != 1:
            raise ValueError("give exactly one of basic, bearer and oauth2")
        return self


def check_auths(file: Path | str, auths: Mapping[str, AuthSpec], used: Mapping[str, str | None]) -> None:
    """Raise one `ConfigError` for modules naming unknown auths and for secrets that cannot be read."""
    faults: list[ConfigFault] = []
    for module, name in used.items():
        if name is not None and name not in auths:
            known = ", ".join(sorted(auths)) or "none"
            faults.append(
                ConfigFault(str(file), f"modules.{module}", "auth", f"unknown auth {name}; known: {known}")
            )
    for name, auth in auths.items():
        secrets: list[tuple[str, Path | None, str | None]] = []
        if auth.basic:
            secrets.append(("password", auth.basic.password_file, auth.basic.password_env))
        if auth.bearer:
            secrets.append(("token", auth.bearer.token_file, auth.bearer.token_env))
        if auth.oauth2:
            secrets.append(("client_secret", auth.oauth2.client_secret_file, auth.oauth2.client_secret_env))
        for what, secret_file, env in secrets:
            try:
                read_secret(secret_file, env, what=what, config_file=file)
            except ConfigError as exc:
                faults.extend(ConfigFault(f.file, f"auths.{name}", f.key, f.message) for f in exc.faults)
    if faults:
        raise ConfigError(faults)


def target_url(target: str, path: str) -> str:
    """Join a probe target (``https://host:port/base``) and a module path."""
    return target.rstrip("/") + ("/" + path.lstrip("/") if path else "")


def check_target(target: str) -> str | None:
    """Return why `target` is not an http(s) URL without credentials, or None when it is fine."""
    parts = urlsplit(target)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "target must be an http:// or https:// URL"
    if parts.username or parts.password:
        return "target must not hold credentials; use auths"
    return None

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import annotated_types as at

from hospmon.config import Check, ConfigError, ConfigFault, Strict, read_secret

_CHECK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True, kw_only=True)
class TlsSpec(Strict):
    """How to trust the server: a CA bundle, or no verification (then no certificate expiry is known)."""

    ca_file: Path | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False


def _check_name(value: str) -> str:
    if not _CHECK_NAME.match(value):
        raise ValueError(f"String should match pattern '{_CHECK_NAME.pattern}'")
    return value


@dataclass(frozen=True, kw_only=True)
class JsonCheck(Strict):
    """A value at a dotted path of the JSON body (``entry.0.total``) compared with `value`."""

    name: Annotated[str, Check(_check_name)]
    path: Annotated[str, at.MinLen(1)]
    op: Literal["exists", "eq", "ne", "lt", "le", "gt", "ge"] = "exists"
    value: float | bool | str | None = None

    def __post_init__(self) -> None:
        if self.op in {"lt", "le", "gt", "ge"} and not isinstance(self.value, float):
            raise ValueError(f"op {self.op} needs a numeric value")
        if self.op in {"eq", "ne"} and self.value is None:
            raise ValueError(f"op {self.op} needs a value")


def _no_secret_headers(value: dict[str, str]) -> dict[str, str]:
    if any(name.lower() in {"authorization", "cookie"} for name in value):
        raise ValueError("put credentials in auths, not in headers")
    return value


def _relative_path(value: str) -> str:
    if "://" in value:
        raise ValueError("give a path; the host comes from the probe's target")
    return value


@dataclass(frozen=True, kw_only=True)
class HttpSpec(Strict):
    """One HTTP request and what its answer must be."""

    method: Literal["GET", "HEAD", "POST"] = "GET"
    path: Annotated[str, Check(_relative_path)] = ""
    headers: Annotated[dict[str, str], Check(_no_secret_headers)] = field(default_factory=dict)
    body: str | None = None
    valid_status_codes: list[int] = field(default_factory=list)
    follow_redirects: bool = True
    max_redirects: Annotated[int, at.Ge(0)] = 10
    body_regex: list[re.Pattern[str]] = field(default_factory=list)
    body_not_regex: list[re.Pattern[str]] = field(default_factory=list)
    json_checks: list[JsonCheck] = field(default_factory=list)
    timeout_seconds: Annotated[float, at.Gt(0)] = 10.0
    max_body_bytes: Annotated[int, at.Gt(0)] = 4 * 1024 * 1024
    auth: str | None = None
    tls: TlsSpec = field(default_factory=TlsSpec)


@dataclass(frozen=True, kw_only=True)
class BasicSpec(Strict):
    """HTTP basic auth; the password from a file or an environment variable."""

    username: str
    password_file: Path | None = None
    password_env: str | None = None


@dataclass(frozen=True, kw_only=True)
class BearerSpec(Strict):
    """A static bearer token from a file or an environment variable."""

    token_file: Path | None = None
    token_env: str | None = None


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    if parts.username or parts.password:
        raise ValueError("no credentials in URLs; use client_secret_file")
    return value


@dataclass(frozen=True, kw_only=True)
class OAuth2Spec(Strict):
    """OAuth2 client credentials: a fresh token is requested at each probe and its latency measured."""

    token_url: Annotated[str, Check(_http_url)]
    client_id: str
    client_secret_file: Path | None = None
    client_secret_env: str | None = None
    scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class AuthSpec(Strict):
    """One named way to authenticate: exactly one of basic, bearer and oauth2."""

    basic: BasicSpec | None = None
    bearer: BearerSpec | None = None
    oauth2: OAuth2Spec | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.basic, self.bearer, self.oauth2)) != 1:
            raise ValueError("give exactly one of basic, bearer and oauth2")


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

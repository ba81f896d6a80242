"""Config of the middleware exporter: Tomcat, Mirth Connect and JSON-speaking integration engines.

Example::

    auths:
      tomcat-jmx: {basic: {username: hospmon, password_file: /etc/hospmon/secrets/tomcat-jmx}}
      mirth: {basic: {username: hospmon, password_env: HOSPMON_MIRTH_PASSWORD}}
    modules:
      tomcat: {kind: tomcat, http: {auth: tomcat-jmx}}
      mirth: {kind: mirth, http: {auth: mirth, tls: {ca_file: /etc/hospmon/mirth-ca.pem}}}
      esb:
        kind: engine_json
        http: {path: /api/v1/channels, auth: esb}
        engine_json: {channels: data.channels, name: name, state: status, states: {RUNNING: started},
                      received: stats.in, sent: stats.out, errored: stats.err, queued: queue}

The probe's target is the server's base URL (``http://his-app-1:8080``, ``https://mirth:8443``); a module's
``http.path`` is where its API starts (``/manager/jmxproxy`` for Tomcat, ``/api`` for Mirth).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, get_args

import annotated_types as at

from exporters.core.httpconfig import AuthSpec, HttpSpec, check_auths
from exporters.core.policy import Policy
from hospmon.config import Check, Strict, load

# What a channel can be doing; the engines' own words map onto these.
State = Literal["started", "paused", "stopped", "starting", "stopping", "deploying", "error", "unknown"]
STATES: tuple[str, ...] = get_args(State)
DEFAULT_PATHS = {"tomcat": "/manager/jmxproxy", "mirth": "/api", "engine_json": ""}


def _domain(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        raise ValueError(f"{value!r}: letters, digits, '_', '.' and '-' only")
    return value


@dataclass(frozen=True, kw_only=True)
class TomcatSpec(Strict):
    """What to read through the manager's JMX proxy."""

    domain: Annotated[str, Check(_domain)] = "Catalina"
    """The JMX domain of Tomcat's MBeans: the name of its ``<Engine>``."""


@dataclass(frozen=True, kw_only=True)
class MirthSpec(Strict):
    """What to ask Mirth Connect (NextGen Connect) besides the channel statuses."""

    last_message: bool = False
    """Ask each channel for its newest message's time (one request per channel; content is never asked)."""
    include_undeployed: bool = False


@dataclass(frozen=True, kw_only=True)
class JsonEngineSpec(Strict):
    """Where an engine's JSON answer keeps its channels and their figures: dotted paths (``stats.in``)."""

    channels: str = ""
    """Path to the list (or the object keyed by channel name) of channels; empty for the document itself."""
    name: str = "name"
    state: str | None = None
    states: dict[str, State] = field(default_factory=dict)
    """The engine's state words (compared case-insensitively) and ours; unlisted words count as unknown."""
    received: str | None = None
    sent: str | None = None
    errored: str | None = None
    filtered: str | None = None
    queued: str | None = None
    last_message: str | None = None
    last_message_format: Literal["iso8601", "epoch_seconds", "epoch_millis"] = "iso8601"
    version: str | None = None
    """Path to the engine's version in the same document, if it gives one."""

    def __post_init__(self) -> None:
        fields = (self.state, self.received, self.sent, self.errored, self.queued, self.last_message)
        if all(f is None for f in fields):
            raise ValueError("map at least one of state, received, sent, errored, queued, last_message")


@dataclass(frozen=True, kw_only=True)
class MiddlewareModule(Strict):
    """One probe module: the kind of server, the request's settings and what the kind needs."""

    kind: Literal["tomcat", "mirth", "engine_json"]
    http: HttpSpec = field(default_factory=HttpSpec)
    tomcat: TomcatSpec | None = None
    mirth: MirthSpec | None = None
    engine_json: JsonEngineSpec | None = None

    def __post_init__(self) -> None:
        for kind, given in (("tomcat", self.tomcat), ("mirth", self.mirth)):
            if given is not None and self.kind != kind:
                raise ValueError(f"{kind} settings are only for {kind} modules")
        if (self.engine_json is not None) != (self.kind == "engine_json"):
            raise ValueError("engine_json modules need engine_json settings, and only they take them")
        if self.kind != "engine_json" and self.http.json_checks:
            raise ValueError("json_checks are only for engine_json modules")

    def tomcat_spec(self) -> TomcatSpec:
        """Return the Tomcat settings, the defaults when none were given."""
        return self.tomcat or TomcatSpec()

    def mirth_spec(self) -> MirthSpec:
        """Return the Mirth settings, the defaults when none were given."""
        return self.mirth or MirthSpec()

    @property
    def path(self) -> str:
        """Return where the module's API starts on the target: its http.path, else the kind's default."""
        return self.http.path or DEFAULT_PATHS[self.kind]


@dataclass(frozen=True, kw_only=True)
class MiddlewareConfig(Policy):
    """The middleware exporter's config file."""

    auths: dict[str, AuthSpec] = field(default_factory=dict)
    modules: Annotated[dict[str, MiddlewareModule], at.MinLen(1)]


def load_middleware_config(path: Path) -> MiddlewareConfig:
    """Read, validate and check auths of the config file, raising one `ConfigError` with every fault."""
    config = load(MiddlewareConfig, path)
    check_auths(path, config.auths, {name: m.http.auth for name, m in config.modules.items()})
    return config

"""The network exporter: SNMP modules probed on request, ``/probe?target=HOST[:PORT]&module=M&auth=NAME``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from prometheus_client.metrics_core import Metric

from exporters.core.policy import Access, AccessList, read_access
from exporters.core.probe import BadRequest, Deadline, Exporter, ProbeFailed, ProbeRequest
from exporters.core.target import split_target
from exporters.network.ber import V1, V2C, VarBind, size_oid_cache
from exporters.network.config import Auth, Module, NetworkConfig, load_config
from exporters.network.render import CompiledModule
from exporters.network.session import Limiter, Session, get, walk, walk_many
from exporters.network.udp import UdpSession
from hospmon.config import ConfigError, read_secret

DEFAULT_AUTH = "public_v2"
SNMP_PORT = 161
# Decoded OIDs kept per column the modules declare: the rows of a large chassis switch. A walk also brings
# the columns of its subtree that no metric reads (if_mib declares 24 of the 41 its two walks bring).
OID_ROWS_PER_COLUMN = 256


@dataclass(frozen=True)
class Credentials:
    """An auth with its secrets read; `repr` never shows them."""

    auth: Auth
    community: bytes
    password: str | None = None
    priv_password: str | None = None
    pysnmp_user: object | None = None

    def __repr__(self) -> str:
        return f"Credentials(version={self.auth.version}, backend={self.auth.effective_backend()})"


class Timing(TypedDict):
    """Request settings every session takes."""

    timeout: float
    retries: int
    limiter: Limiter


@dataclass(frozen=True)
class ReadConfig:
    """The validated config, every module (shipped and configured) and the allow-list: plain data."""

    config: NetworkConfig
    modules: dict[str, Module]
    access: AccessList


@dataclass
class Runtime:
    """A loaded config: modules compiled, secrets read, limits shared by every probe."""

    config: NetworkConfig
    modules: dict[str, CompiledModule]
    credentials: dict[str, Credentials]
    limiter: Limiter
    access: Access = field(default_factory=Access)


def _secret(auth: Auth, name: str, key: str, path: Path) -> str | None:
    file, env = getattr(auth, f"{key}_file"), getattr(auth, f"{key}_env")
    if not file and not env:
        return None
    return read_secret(file, env, what=f"auths.{name}.{key}", config_file=path)


def read_credentials(name: str, auth: Auth, path: Path) -> Credentials:
    """Read the secrets of one auth from its env variables or files."""
    if auth.version != 3:
        community = _secret(auth, name, "community", path)
        if community is None:
            raise ConfigError.single(path, "give community_env or community_file", entry=f"auths.{name}")
        return Credentials(auth, community.encode(), None)
    level = auth.security_level
    password = _secret(auth, name, "password", path) if level != "noAuthNoPriv" else None
    priv = _secret(auth, name, "priv_password", path) if level == "authPriv" else None
    if level != "noAuthNoPriv" and not password:
        raise ConfigError.single(path, f"{level} needs password_env or password_file", entry=f"auths.{name}")
    if level == "authPriv" and not priv:
        raise ConfigError.single(path, "authPriv needs priv_password_env or _file", entry=f"auths.{name}")
    user = None
    if auth.effective_backend() == "pysnmp":
        from exporters.network.pysnmp_backend import usm_user  # only when an auth needs it (memory)

        user = usm_user(str(auth.username), auth.auth_protocol, password, auth.priv_protocol, priv)
    return Credentials(auth, b"", password, priv, user)


def parse_target(target: str) -> tuple[str, int]:
    """Split ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address; raise `BadRequest` if invalid."""
    host, port = split_target(target)
    return host, SNMP_PORT if port is None else port


def open_session(
    config: Runtime, host: str, port: int, auth_name: str, *, timeout: float, retries: int
) -> Session:
    """Open a session to ``host:port`` with the named auth's credentials (the probe and discovery alike)."""
    creds = config.credentials[auth_name]
    auth = creds.auth
    version = {1: V1, 2: V2C, 3: 3}[auth.version]
    common = Timing(timeout=timeout, retries=retries, limiter=config.limiter)
    if auth.effective_backend() == "fast" and auth.version == 3:
        from exporters.network.usm import UsmSession  # v3 code stays out of a v1/v2c-only process

        return UsmSession(
            host,
            port,
            username=str(auth.username),
            auth=(auth.auth_protocol, creds.password) if creds.password else None,
            priv=(auth.priv_protocol, creds.priv_password) if creds.priv_password else None,
            context_name=auth.context_name,
            **common,
        )
    if auth.effective_backend() == "fast":
        return UdpSession(host, port, version=version, community=creds.community, **common)
    from exporters.network.pysnmp_backend import PysnmpSession, community_data

    user = creds.pysnmp_user if auth.version == 3 else community_data(creds.community, version)
    canary = None
    if auth.version == 3 and creds.password and creds.priv_password:
        from exporters.network.privcheck import plain_canary

        canary = plain_canary(host, port, auth, creds.password, timeout)
    return PysnmpSession(
        host, port, version=version, auth_data=user, context_name=auth.context_name, canary=canary, **common
    )


class NetworkExporter(Exporter[Runtime]):
    """SNMP v1/v2c/v3 for switches, routers, firewalls, servers, storage and UPS."""

    name = "network"
    default_port = 9161
    description = "SNMP exporter for network gear, servers, storage and UPS"
    default_module = "if_mib"

    def read_config(self, path: Path | None) -> ReadConfig:
        """Read and validate the config (default: the shipped lab config), its modules and its allow-list."""
        config, modules = load_config(path)
        return ReadConfig(config, modules, read_access(config, path or Path("network.yml"), self.name))

    def build(self, read: ReadConfig, path: Path | None) -> Runtime:
        """Read the secrets, compile the modules and make the limits and the PHI guard."""
        config = read.config
        where = path or Path("network.yml")
        faults = []
        credentials: dict[str, Credentials] = {}
        for name, auth in config.auths.items():
            try:
                credentials[name] = read_credentials(name, auth, where)
            except ConfigError as exc:
                faults.extend(exc.faults)
        if faults:
            raise ConfigError(faults)
        compiled = {name: CompiledModule(name, module) for name, module in read.modules.items()}
        size_oid_cache(OID_ROWS_PER_COLUMN * sum(len(m.columns) for m in compiled.values()))
        limiter = Limiter(config.limits.overall, config.limits.per_target)
        return Runtime(config, compiled, credentials, limiter, read.access.access(self.refusals))

    def module_names(self, config: Runtime) -> Collection[str]:
        """Return the shipped and configured module names."""
        return config.modules.keys()

    def check_request(self, config: Runtime, request: ProbeRequest) -> None:
        """Reject unknown modules and auths, malformed targets, and targets not listed for that auth."""
        super().check_request(config, request)
        auth = request.params.get("auth", DEFAULT_AUTH)
        if auth not in config.credentials:
            raise BadRequest(f"unknown auth {auth!r}; known: {', '.join(sorted(config.credentials))}")
        host, _ = parse_target(request.target)
        config.access.check(request.target, request.modules, request.params.get("auth"), host)

    def open_session(self, config: Runtime, request: ProbeRequest, module: CompiledModule) -> Session:
        """Open a session to the request's target with its auth and the module's timing."""
        host, port = parse_target(request.target)
        defaults, mod = config.config.defaults, module.module
        timeout = mod.timeout or defaults.timeout
        retries = defaults.retries if mod.retries is None else mod.retries
        auth = request.params.get("auth", DEFAULT_AUTH)
        return open_session(config, host, port, auth, timeout=timeout, retries=retries)

    def fetch(
        self, config: Runtime, request: ProbeRequest, module: CompiledModule, deadline: Deadline
    ) -> list[VarBind]:
        """Walk and get everything a module needs from the target, over one session."""
        reps = module.module.max_repetitions or config.config.defaults.max_repetitions
        session = self.open_session(config, request, module)
        try:
            if module.module.walk_together:
                parts = walk_many(session, module.walk, reps, deadline)
            else:
                parts = [walk(session, root, reps, deadline) for root in module.walk]
            varbinds = [vb for part in parts for vb in part]
            if module.get:
                varbinds += get(session, module.get, deadline)
            return varbinds
        finally:
            session.close()

    def probe_module(
        self, config: Runtime, request: ProbeRequest, module: str, deadline: Deadline
    ) -> Iterable[Metric]:
        """Probe one module of one target and return its metric families."""
        compiled = config.modules[module]
        varbinds = self.fetch(config, request, compiled, deadline)
        if not varbinds:
            raise ProbeFailed("bad_response", f"module {module}: the agent returned none of its OIDs")
        families = compiled.render(varbinds, config.access.guard)
        if not any(family.samples for family in families):
            # Success with no series would hide a device whose agent lacks what the module reads.
            raise ProbeFailed("bad_response", f"module {module}: the agent's answers make none of its series")
        return families

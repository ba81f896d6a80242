"""Resolve configured connections and ``HOST:PORT`` requests into `Target` objects with their passwords."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from exporters.core.policy import Access
from exporters.core.probe import BadRequest, ProbeRequest
from exporters.database.config import DEFAULT_PORTS, SqlAccess
from exporters.database.drivers import Target
from hospmon.config import ConfigError, ConfigFault, read_secret


def read_passwords(config: SqlAccess, file: str | Path) -> dict[str, str]:
    """Read every auth's password from its file or environment variable, reporting every fault at once."""
    passwords: dict[str, str] = {}
    faults: list[ConfigFault] = []
    for name, auth in config.auths.items():
        try:
            passwords[name] = read_secret(
                auth.password_file, auth.password_env, what=f"auths.{name}.password", config_file=file
            )
        except ConfigError as exc:
            faults.extend(exc.faults)
    if faults:
        raise ConfigError(faults)
    return passwords


def named_targets(config: SqlAccess, passwords: Mapping[str, str]) -> dict[str, Target]:
    """Build the target of every configured connection."""
    targets = {}
    for name, conn in config.connections.items():
        auth = config.auths[conn.auth]
        targets[name] = Target(
            name=name,
            engine=conn.engine,
            host=conn.host,
            port=conn.port or DEFAULT_PORTS[conn.engine],
            database=conn.database,
            user=auth.user,
            password=passwords[conn.auth],
            pool_size=conn.pool_size,
            connect_timeout=conn.connect_timeout,
            query_timeout=conn.query_timeout,
            idle_timeout=conn.idle_timeout,
            tls=conn.tls,
            tls_ca_file=conn.tls_ca_file,
            require_auth=conn.pg_require_auth,
        )
    return targets


def split_host_port(text: str) -> tuple[str, int] | None:
    """Split ``host:port`` or ``[v6]:port``; None when `text` has no port."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    host = host.removeprefix("[").removesuffix("]")
    value = int(port)
    return (host, value) if 0 < value < 65536 else None


def adhoc_target(
    config: SqlAccess, passwords: Mapping[str, str], request: ProbeRequest, access: Access
) -> Target:
    """Build the target of a ``target=HOST:PORT&auth=NAME[&engine=E][&database=D]`` request.

    The address must be listed with that auth (config ``targets`` or the inventory), or be ad hoc inside
    ``adhoc_cidrs``: the account's password goes nowhere else.
    """
    target, params = request.target, request.params
    hostport = split_host_port(target)
    if hostport is None:
        known = ", ".join(sorted(config.connections)) or "none configured"
        raise BadRequest(f"target {target!r} is neither a connection name ({known}) nor HOST:PORT")
    auth_name = params.get("auth")
    if not auth_name:
        raise BadRequest("a HOST:PORT target needs an auth parameter naming an entry of auths")
    auth = config.auths.get(auth_name)
    if auth is None:
        raise BadRequest(f"unknown auth {auth_name!r}; known: {', '.join(sorted(config.auths))}")
    access.check(target, request.modules, auth_name, hostport[0])
    engine = params.get("engine") or auth.engine
    if engine not in DEFAULT_PORTS:
        raise BadRequest("give engine=mysql|postgres|oracle, or set engine on the auth")
    limits = config.adhoc
    return Target(
        name=target,
        engine=engine,
        host=hostport[0],
        port=hostport[1],
        database=params.get("database") or auth.database,
        user=auth.user,
        password=passwords[auth_name],
        pool_size=limits.pool_size,
        connect_timeout=limits.connect_timeout,
        query_timeout=limits.query_timeout,
        idle_timeout=limits.idle_timeout,
        tls=limits.tls,
        tls_ca_file=limits.tls_ca_file,
        require_auth=limits.pg_require_auth,
    )

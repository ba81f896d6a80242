"""Parse the ``target`` of a probe: ``host:port``, or a host with an optional port."""

from __future__ import annotations

import ipaddress

from exporters.core.probe import BadRequest


def host_port(target: str) -> tuple[str, int]:
    """Split ``host:port`` or ``[v6-address]:port``, raising `BadRequest` when it is neither."""
    host, sep, port = target.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise BadRequest(f"target {target!r} is not host:port")
    return host, int(port)


def split_target(target: str) -> tuple[str, int | None]:
    """Split ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address (port None when not given)."""
    target = target.strip()
    host, port = target, None
    if target.startswith("["):
        end = target.find("]")
        if end < 0:
            raise BadRequest(f"invalid target {target!r}")
        host, rest = target[1:end], target[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise BadRequest(f"invalid target {target!r}")
            port = _port(rest[1:], target)
    elif target.count(":") == 1:
        host, text = target.split(":")
        port = _port(text, target)
    elif target.count(":") > 1:
        try:
            ipaddress.IPv6Address(target)
        except ValueError:
            raise BadRequest(f"invalid target {target!r}") from None
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise BadRequest(f"invalid target {target!r}")
    return host, port


def _port(text: str, target: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise BadRequest(f"invalid port in target {target!r}")
    return int(text)

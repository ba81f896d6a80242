"""Parse the ``target`` of a probe that speaks a TCP protocol: ``host:port``."""

from __future__ import annotations

from exporters.core.probe import BadRequest


def host_port(target: str) -> tuple[str, int]:
    """Split ``host:port`` or ``[v6-address]:port``, raising `BadRequest` when it is neither."""
    host, sep, port = target.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise BadRequest(f"target {target!r} is not host:port")
    return host, int(port)

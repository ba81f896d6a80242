"""Inventory addresses given as DNS names, resolved when the receiver's config is loaded or reloaded.

An event comes from an IP address, so a CI whose inventory address is a name (``nas-pacs-1.hospital.local``)
is found only once the name is resolved: through the system's resolver, or through `dns.servers` (the
hospital's internal DNS) when given. All names are asked at once, each within `dns.timeout_seconds`, so a
slow DNS bounds a load instead of hanging it. A name that does not resolve is a config fault naming the CI:
at start-up the receiver does not start, on a reload the running config stays.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from hospmon.config import StrictModel

if TYPE_CHECKING:
    import dns.nameserver

WORKERS = 16
Lookup = Callable[[str], list[str]]


class Unresolved(Exception):
    """A name that does not resolve, with the reason."""


class DnsSettings(StrictModel):
    """How inventory names are resolved."""

    servers: list[str] = []
    """DNS servers (``10.20.0.53``, ``10.20.0.53:5353``, ``[fd00::53]:53``); none: the system's resolver."""
    timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    @field_validator("servers")
    @classmethod
    def _servers(cls, servers: list[str]) -> list[str]:
        for i, server in enumerate(servers):
            try:
                split_server(server)
            except ValueError:
                raise ValueError(
                    f"[{i}] {server!r} is not a DNS server: give its IP address, with :port if not 53"
                ) from None
        return servers


def split_server(server: str) -> tuple[str, int]:
    """Return a DNS server's IP address and port (53 when not given); raise ValueError when it is neither."""
    host, port = server, "53"
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif server.count(":") == 1:
        host, port = server.split(":")
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError(port)
    return str(ipaddress.ip_address(host)), number


def resolve_names(names: Iterable[str], settings: DnsSettings) -> dict[str, list[str] | Unresolved]:
    """Return each name's IP addresses, or why it does not resolve, within a bounded time."""
    unique = sorted(set(names))
    if not unique:
        return {}
    lookup: Lookup = _dns(settings) if settings.servers else _system
    timeout = settings.timeout_seconds
    deadline = time.monotonic() + timeout * math.ceil(len(unique) / WORKERS) + 1.0
    pool = ThreadPoolExecutor(min(WORKERS, len(unique)), thread_name_prefix="resolve")
    futures = {name: pool.submit(lookup, name) for name in unique}
    found: dict[str, list[str] | Unresolved] = {}
    for name, future in futures.items():
        try:
            found[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except Unresolved as exc:
            found[name] = exc
        except TimeoutError:
            found[name] = Unresolved(f"no answer within {timeout:g} s")
    # A system lookup cannot be cancelled: a stuck one ends in its thread, the load goes on.
    pool.shutdown(wait=False, cancel_futures=True)
    return found


def _system(name: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise Unresolved(exc.strerror) from None
    return sorted({str(info[4][0]) for info in infos})


def _dns(settings: DnsSettings) -> Lookup:
    import dns.exception
    import dns.nameserver
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [_nameserver(server) for server in settings.servers]
    resolver.lifetime = settings.timeout_seconds
    where = ", ".join(settings.servers)

    def lookup(name: str) -> list[str]:
        addresses: list[str] = []
        for kind in ("A", "AAAA"):
            try:
                answer = resolver.resolve(name, kind, search=False)
            except dns.resolver.NXDOMAIN:
                raise Unresolved(f"no such name (NXDOMAIN from {where})") from None
            except dns.resolver.NoAnswer:
                continue
            except dns.exception.Timeout:
                raise Unresolved(f"no answer from {where} within {settings.timeout_seconds:g} s") from None
            except dns.exception.DNSException as exc:
                raise Unresolved(f"{where}: {exc}") from None
            addresses += [record.to_text() for record in answer]
        if not addresses:
            raise Unresolved(f"no A or AAAA record at {where}")
        return addresses

    return lookup


def _nameserver(server: str) -> dns.nameserver.Do53Nameserver:
    import dns.nameserver

    return dns.nameserver.Do53Nameserver(*split_server(server))

"""Name resolution shared by the reach probes: one address of the preferred family, else the other."""

from __future__ import annotations

import socket
from typing import Any

from exporters.core.probe import Deadline, ProbeFailed

FAMILIES = {"ip4": socket.AF_INET, "ip6": socket.AF_INET6}


def resolve(host: str, port: int, preferred: str, deadline: Deadline) -> tuple[int, tuple[Any, ...]]:
    """Return (family, socket address) of `host`, preferring `preferred` (``ip4``/``ip6``).

    getaddrinfo cannot be bounded; the core answers ``timeout`` at the deadline whatever it still does.
    """
    if deadline.expired():
        raise ProbeFailed("timeout", "deadline reached before name resolution")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProbeFailed("unreachable", f"{host} does not resolve") from exc
    wanted = FAMILIES[preferred]
    infos.sort(key=lambda info: info[0] != wanted)
    family, _, _, _, address = infos[0]
    return int(family), tuple(address)

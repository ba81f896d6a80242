"""ICMP echo: one request, one reply, timed in phases (``resolve``, ``setup``, ``rtt``).

Linux lets unprivileged processes send echo requests over a datagram ICMP socket when their group is in
``net.ipv4.ping_group_range``; the kernel then fills in the identifier and filters replies for us. Elsewhere
a raw socket is needed (root or CAP_NET_RAW). ``auto`` tries the datagram socket first and says, in
``hospmon_icmp_socket_info``, which socket served and why the other did not::

    hospmon_icmp_phase_duration_seconds{module="ping",phase="rtt"} 0.00041
    hospmon_icmp_reply_ttl{module="ping"} 64.0
    hospmon_icmp_socket_info{fallback_reason="datagram ICMP not permitted (net.ipv4.ping_group_range)",
        module="ping",socket="raw"} 1.0
"""

from __future__ import annotations

import errno
import os
import secrets
import socket
import struct
import time
from dataclasses import dataclass, field

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.probe import Deadline, ProbeFailed
from exporters.reach.config import IcmpSpec
from exporters.reach.resolve import resolve

V4, V6 = int(socket.AF_INET), int(socket.AF_INET6)
ECHO_REQUEST: dict[int, int] = {V4: 8, V6: 128}
ECHO_REPLY: dict[int, int] = {V4: 0, V6: 129}
UNREACHABLE: dict[int, tuple[int, int]] = {V4: (3, 11), V6: (1, 3)}  # destination unreachable, time exceeded
IP_RECVTTL, IP_RECVERR, IPV6_RECVERR = 12, 11, 25  # Linux <linux/in.h>, <linux/in6.h>
UNREACHABLE_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNREFUSED, errno.EACCES, errno.EPERM}
)


@dataclass
class IcmpResult:
    """What one echo learnt."""

    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("resolve", "setup", "rtt"), 0.0))
    socket_kind: str = ""
    fallback_reason: str = ""
    ttl: int | None = None


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _packet(family: int, ident: int, seq: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHH", ECHO_REQUEST[family], 0, 0, ident, seq)
    checksum = _checksum(header + payload) if family == socket.AF_INET else 0  # the kernel sums ICMPv6
    return struct.pack("!BBHHH", ECHO_REQUEST[family], 0, checksum, ident, seq) + payload


def open_socket(family: int, wanted: str, result: IcmpResult) -> socket.socket:
    """Open a datagram or raw ICMP socket as `wanted` says, noting in `result` which one and why."""
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    if wanted in ("auto", "datagram"):
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM, proto)
            # Without RECVERR the kernel keeps an ICMP error for a ping socket to itself: we would time out.
            if family == socket.AF_INET:
                sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
            result.socket_kind = "datagram"
            return sock
        except OSError as exc:
            if wanted == "datagram":
                raise ProbeFailed("config", f"datagram ICMP socket refused: {exc.strerror}") from None
            result.fallback_reason = (
                "datagram ICMP not permitted (net.ipv4.ping_group_range)"
                if exc.errno in (errno.EACCES, errno.EPERM)
                else f"datagram ICMP unavailable: {exc.strerror}"
            )
    try:
        sock = socket.socket(family, socket.SOCK_RAW, proto)
    except OSError as exc:
        raise ProbeFailed(
            "config",
            f"cannot open an ICMP socket: raw needs root or CAP_NET_RAW ({exc.strerror})"
            + (f"; {result.fallback_reason}" if result.fallback_reason else ""),
        ) from None
    result.socket_kind = "raw"
    return sock


def icmp_probe(target: str, spec: IcmpSpec, deadline: Deadline, result: IcmpResult) -> IcmpResult:
    """Send one echo request to `target` and wait for its reply within the deadline, filling `result`."""
    start = time.perf_counter()
    family, address = resolve(target, 0, spec.ip_protocol, deadline)
    result.phases["resolve"] = time.perf_counter() - start
    start = time.perf_counter()
    sock = open_socket(family, spec.socket, result)
    try:
        ident, seq = secrets.randbits(16), secrets.randbits(16)
        payload = os.urandom(spec.payload_bytes)
        packet = _packet(family, ident, seq, payload)
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        result.phases["setup"] = time.perf_counter() - start
        start = time.perf_counter()
        try:
            sock.sendto(packet, (address[0], 0, *address[2:]))
        except OSError as exc:
            raise _os_failure(exc, target) from None
        _await_reply(sock, family, result.socket_kind == "raw", ident, seq, payload, spec, deadline, result)
        result.phases["rtt"] = time.perf_counter() - start
    finally:
        sock.close()
    return result


def _await_reply(
    sock: socket.socket,
    family: int,
    raw: bool,
    ident: int,
    seq: int,
    payload: bytes,
    spec: IcmpSpec,
    deadline: Deadline,
    result: IcmpResult,
) -> None:
    until = time.monotonic() + deadline.cap(spec.timeout_seconds)
    while (left := until - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, ancillary, _, _ = sock.recvmsg(65535, 64)
        except TimeoutError:
            break
        except OSError as exc:
            raise _os_failure(exc, "target") from None
        if raw and family == socket.AF_INET:
            data = data[(data[0] & 0x0F) * 4 :]  # raw IPv4 sockets hand us the IP header too
        if len(data) < 8:
            continue
        kind, _, _, got_ident, got_seq = struct.unpack("!BBHHH", data[:8])
        if kind in UNREACHABLE[family] and _quotes_ours(data[8:], family, ident, seq, raw):
            raise ProbeFailed("unreachable", f"ICMP type {kind} code {data[1]} came back")
        if kind != ECHO_REPLY[family] or got_seq != seq or (raw and got_ident != ident):
            continue  # another process's ping, or an old reply
        if data[8:] != payload:
            raise ProbeFailed("bad_response", "echo reply payload differs from the request's")
        result.ttl = _ttl(ancillary)
        return
    raise ProbeFailed("timeout", "no echo reply before the deadline")


def _quotes_ours(quoted: bytes, family: int, ident: int, seq: int, raw: bool) -> bool:
    """Tell whether an ICMP error quotes our echo request (its header follows the quoted IP header)."""
    if family == socket.AF_INET and quoted:
        quoted = quoted[(quoted[0] & 0x0F) * 4 :]
    elif family == socket.AF_INET6:
        quoted = quoted[40:]
    if len(quoted) < 8:
        return False
    _, _, _, got_ident, got_seq = struct.unpack("!BBHHH", quoted[:8])
    return got_seq == seq and (got_ident == ident or not raw)


def _ttl(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if (level, kind) in ((socket.IPPROTO_IP, socket.IP_TTL), (socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT)):
            return int.from_bytes(data[:4], "little") if len(data) >= 4 else data[0]
    return None


def _os_failure(exc: OSError, target: str) -> ProbeFailed:
    if exc.errno in UNREACHABLE_ERRNOS:
        return ProbeFailed("unreachable", f"{target}: {exc.strerror}")
    return ProbeFailed("error", f"{target}: {exc.strerror}")


def icmp_metrics(module: str, result: IcmpResult) -> list[Metric]:
    """Return the phase durations, the reply's TTL and which socket served."""
    phases = GaugeMetricFamily(
        "hospmon_icmp_phase_duration_seconds",
        "Time spent in each phase of the echo.",
        labels=["module", "phase"],
    )
    for phase, seconds in result.phases.items():
        phases.add_metric([module, phase], seconds)
    families: list[Metric] = [phases, socket_info(module, result)]
    if result.ttl is not None:
        ttl = GaugeMetricFamily(
            "hospmon_icmp_reply_ttl", "TTL (hop limit) of the echo reply.", labels=["module"]
        )
        ttl.add_metric([module], result.ttl)
        families.append(ttl)
    return families


def socket_info(module: str, result: IcmpResult) -> GaugeMetricFamily:
    """Return which ICMP socket served the probe and why a datagram socket did not, if it did not."""
    info = GaugeMetricFamily(
        "hospmon_icmp_socket_info",
        "The ICMP socket used (datagram or raw) and why the datagram socket was not.",
        labels=["module", "socket", "fallback_reason"],
    )
    info.add_metric([module, result.socket_kind, result.fallback_reason], 1)
    return info

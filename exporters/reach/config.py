"""Config of the reach exporter: ICMP, TCP (optionally TLS, with send/expect steps), DNS, HTTP and clamd
(ClamAV's scanning daemon) modules.

Example::

    modules:
      ping: {kind: icmp}
      jetdirect:                     # a ward printer's raw port: PJL status must say ready (10001)
        kind: tcp
        tcp:
          port: 9100
          steps:
            - send: "\\x1b%-12345X@PJL INFO STATUS\\r\\n\\x1b%-12345X"
            - expect: "CODE=10001"
      his_dns: {kind: dns, dns: {query_name: his.hospital.internal, query_type: A}}
      kiosk_in_service:
        kind: http
        http: {path: /status, json_checks: [{name: in_service, path: state, op: eq, value: in_service}]}
      clamav: {kind: clamd, clamd: {port: 3310, timezone: Asia/Shanghai}}

The target is a host (``10.1.2.3``, ``[fe80::1]``, ``kiosk-3f-01``) with an optional ``:port``; for http
modules it is the base URL. Targets are allow-listed as for every exporter (``inventory:``, ``targets:``,
``exporters/core/policy.py``). Strings in ``send`` are sent as Latin-1 bytes; ``send_hex`` and ``expect_hex``
serve binary protocols (a DICOM A-ASSOCIATE-RQ, an HL7 MLLP frame).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.httpconfig import AuthSpec, HttpSpec, TlsSpec, check_auths
from exporters.core.policy import Policy
from hospmon.config import Check, Strict, load

RR_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT")
RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")


Seconds = Annotated[float, at.Gt(0)]


@dataclass(frozen=True, kw_only=True)
class IcmpSpec(Strict):
    """An echo request: ``auto`` tries an unprivileged datagram socket first and falls back to a raw one."""

    socket: Literal["auto", "datagram", "raw"] = "auto"
    ip_protocol: Literal["ip4", "ip6"] = "ip4"
    payload_bytes: Annotated[int, at.Interval(ge=0, le=1452)] = 56
    timeout_seconds: Seconds = 5.0


def _bytes_pattern(value: object) -> object:
    return value.encode("latin-1") if isinstance(value, str) else value


def _hex(value: str | None) -> str | None:
    if value is not None:
        bytes.fromhex(value)
    return value


Hex = Annotated[str | None, Check(_hex)]


@dataclass(frozen=True, kw_only=True)
class Step(Strict):
    """One step of a TCP conversation: send bytes, or wait for a regular expression or exact bytes."""

    send: str | None = None
    send_hex: Hex = None
    expect: Annotated[re.Pattern[bytes] | None, Check(_bytes_pattern, before=True)] = None
    expect_hex: Hex = None

    def __post_init__(self) -> None:
        given = [v for v in (self.send, self.send_hex, self.expect, self.expect_hex) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of send, send_hex, expect and expect_hex")

    def payload(self) -> bytes | None:
        """Return the bytes to send, or None for an expect step."""
        if self.send is not None:
            return self.send.encode("latin-1")
        return bytes.fromhex(self.send_hex) if self.send_hex is not None else None


@dataclass(frozen=True, kw_only=True)
class TcpSpec(Strict):
    """Connect (optionally TLS), then run the steps in order."""

    port: Annotated[int, at.Interval(ge=1, le=65535)] | None = None
    """Used when the target has none."""
    tls: bool = False
    tls_config: TlsSpec = field(default_factory=TlsSpec)
    steps: list[Step] = field(default_factory=list)
    timeout_seconds: Seconds = 10.0
    max_read_bytes: Annotated[int, at.Gt(0)] = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class DnsSpec(Strict):
    """A query to the resolver named by the target: the answer must come with one of `valid_rcodes`."""

    query_name: Annotated[str, at.Len(1, 253)]
    query_type: Literal[RR_TYPES] = "A"  # type: ignore[valid-type]
    transport: Literal["udp", "tcp"] = "udp"
    recursion_desired: bool = True
    valid_rcodes: list[Literal[RCODES]] = field(default_factory=lambda: ["NOERROR"])  # type: ignore[valid-type]
    answer_regex: list[re.Pattern[str]] = field(default_factory=list)
    """Each must match an answer record."""
    min_answers: Annotated[int, at.Ge(0)] = 1
    timeout_seconds: Seconds = 5.0


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: give an IANA name such as Asia/Shanghai") from None
    return value


@dataclass(frozen=True, kw_only=True)
class ClamdSpec(Strict):
    """ClamAV's daemon on its TCP port (``TCPSocket`` in clamd.conf): VERSION and STATS."""

    port: Annotated[int, at.Interval(ge=1, le=65535)] = 3310
    """Used when the target has none."""
    timezone: Annotated[str, Check(_zone)] = "UTC"
    """The clamd host's zone: clamd prints local time."""
    timeout_seconds: Seconds = 5.0


@dataclass(frozen=True, kw_only=True)
class ReachModule(Strict):
    """One probe module: its kind and the settings of that kind."""

    kind: Literal["icmp", "tcp", "dns", "http", "clamd"]
    icmp: IcmpSpec = field(default_factory=IcmpSpec)
    tcp: TcpSpec = field(default_factory=TcpSpec)
    dns: DnsSpec | None = None
    http: HttpSpec = field(default_factory=HttpSpec)
    clamd: ClamdSpec = field(default_factory=ClamdSpec)

    def __post_init__(self) -> None:
        if self.kind == "dns" and self.dns is None:
            raise ValueError("a dns module needs dns: {query_name: ...}")
        if self.kind != "dns" and self.dns is not None:
            raise ValueError(f"dns settings are for dns modules, not {self.kind}")


@dataclass(frozen=True, kw_only=True)
class ReachConfig(Policy):
    """The whole config file: the targets it may probe (inventory, targets), auths and modules."""

    auths: dict[str, AuthSpec] = field(default_factory=dict)
    modules: dict[str, ReachModule]


def load_reach_config(path: Path) -> ReachConfig:
    """Read and check a config file, the secrets of its HTTP auths included."""
    config = load(ReachConfig, path, id_field="name")
    used = {name: m.http.auth for name, m in config.modules.items() if m.kind == "http"}
    check_auths(path, config.auths, used)
    return config

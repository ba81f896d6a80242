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
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from exporters.core.httpconfig import AuthSpec, HttpSpec, TlsSpec, check_auths
from exporters.core.policy import Policy
from hospmon.config import StrictModel, load

RR_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT")
RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")


class IcmpSpec(StrictModel):
    """An echo request: ``auto`` tries an unprivileged datagram socket first and falls back to a raw one."""

    socket: Literal["auto", "datagram", "raw"] = "auto"
    ip_protocol: Literal["ip4", "ip6"] = "ip4"
    payload_bytes: int = Field(default=56, ge=0, le=1452)
    timeout_seconds: float = Field(default=5.0, gt=0)


class Step(StrictModel):
    """One step of a TCP conversation: send bytes, or wait for a regular expression or exact bytes."""

    send: str | None = None
    send_hex: str | None = None
    expect: re.Pattern[bytes] | None = None
    expect_hex: str | None = None

    @field_validator("expect", mode="before")
    @classmethod
    def _bytes_pattern(cls, value: object) -> object:
        return value.encode("latin-1") if isinstance(value, str) else value

    @field_validator("send_hex", "expect_hex")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None:
            bytes.fromhex(value)
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [v for v in (self.send, self.send_hex, self.expect, self.expect_hex) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of send, send_hex, expect and expect_hex")
        return self

    def payload(self) -> bytes | None:
        """Return the bytes to send, or None for an expect step."""
        if self.send is not None:
            return self.send.encode("latin-1")
        return bytes.fromhex(self.send_hex) if self.send_hex is not None else None


class TcpSpec(StrictModel):
    """Connect (optionally TLS), then run the steps in order."""

    port: int | None = Field(default=None, ge=1, le=65535, description="used when the target has none")
    tls: bool = False
    tls_config: TlsSpec = TlsSpec()
    steps: list[Step] = []
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_read_bytes: int = Field(default=64 * 1024, gt=0)


class DnsSpec(StrictModel):
    """A query to the resolver named by the target: the answer must come with one of `valid_rcodes`."""

    query_name: str = Field(min_length=1, max_length=253)
    query_type: Literal[RR_TYPES] = "A"  # type: ignore[valid-type]
    transport: Literal["udp", "tcp"] = "udp"
    recursion_desired: bool = True
    valid_rcodes: list[Literal[RCODES]] = ["NOERROR"]  # type: ignore[valid-type]
    answer_regex: list[re.Pattern[str]] = Field(default=[], description="each must match an answer record")
    min_answers: int = Field(default=1, ge=0)
    timeout_seconds: float = Field(default=5.0, gt=0)


class ClamdSpec(StrictModel):
    """ClamAV's daemon on its TCP port (``TCPSocket`` in clamd.conf): VERSION and STATS."""

    port: int = Field(default=3310, ge=1, le=65535, description="used when the target has none")
    timezone: str = Field(default="UTC", description="the clamd host's zone: clamd prints local time")
    timeout_seconds: float = Field(default=5.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: give an IANA name such as Asia/Shanghai"
            ) from None
        return value


class ReachModule(StrictModel):
    """One probe module: its kind and the settings of that kind."""

    kind: Literal["icmp", "tcp", "dns", "http", "clamd"]
    icmp: IcmpSpec = IcmpSpec()
    tcp: TcpSpec = TcpSpec()
    dns: DnsSpec | None = None
    http: HttpSpec = HttpSpec()
    clamd: ClamdSpec = ClamdSpec()

    @model_validator(mode="after")
    def _fits_kind(self) -> ReachModule:
        if self.kind == "dns" and self.dns is None:
            raise ValueError("a dns module needs dns: {query_name: ...}")
        if self.kind != "dns" and self.dns is not None:
            raise ValueError(f"dns settings are for dns modules, not {self.kind}")
        return self


class ReachConfig(Policy):
    """The whole config file: the targets it may probe (inventory, targets), auths and modules."""

    auths: dict[str, AuthSpec] = {}
    modules: dict[str, ReachModule]


def load_reach_config(path: Path) -> ReachConfig:
    """Read and check a config file, the secrets of its HTTP auths included."""
    config = load(ReachConfig, path, id_field="name")
    used = {name: m.http.auth for name, m in config.modules.items() if m.kind == "http"}
    check_auths(path, config.auths, used)
    return config

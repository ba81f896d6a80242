"""DNS: ask the hospital's resolver (the target) for a HIS host name, with dnspython. Phases: ``resolve``
(of the resolver's own name, usually an address), ``request`` (query sent until answer parsed)::

    hospmon_dns_phase_duration_seconds{module="his_dns",phase="request"} 0.0008
    hospmon_dns_rcode{module="his_dns",rcode="NOERROR"} 1.0
    hospmon_dns_answers{module="his_dns"} 2.0

A refused or failed query is ``rejected`` (REFUSED, SERVFAIL, or an rcode outside ``valid_rcodes``); an
answer that lacks what ``answer_regex`` and ``min_answers`` ask for is ``check_failed``.
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.probe import Deadline, ProbeFailed
from exporters.core.target import split_target
from exporters.reach.config import DnsSpec
from exporters.reach.resolve import resolve

DNS_PORT = 53


@dataclass
class DnsResult:
    """What one query learnt."""

    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("resolve", "request"), 0.0))
    rcode: str | None = None
    answers: int = 0


def dns_probe(target: str, spec: DnsSpec, deadline: Deadline, result: DnsResult) -> DnsResult:
    """Query the resolver at `target` (``host[:port]``) and check the answer."""
    host, port = split_target(target)
    start = time.perf_counter()
    family, address = resolve(host, port or DNS_PORT, "ip4", deadline)
    result.phases["resolve"] = time.perf_counter() - start
    query = dns.message.make_query(spec.query_name, dns.rdatatype.from_text(spec.query_type))
    if not spec.recursion_desired:
        query.flags &= ~dns.flags.RD
    timeout = deadline.cap(spec.timeout_seconds)
    if timeout <= 0:
        raise ProbeFailed("timeout", "deadline reached before the query")
    start = time.perf_counter()
    try:
        if spec.transport == "udp":
            answer = _udp(query, family, address, timeout)
        else:
            answer = dns.query.tcp(query, address[0], timeout=timeout, port=address[1])
    except dns.exception.Timeout:
        raise ProbeFailed("timeout", "no DNS answer before the deadline") from None
    except ConnectionRefusedError:
        raise ProbeFailed("unreachable", "nothing answers DNS at the target's port") from None
    except OSError as exc:
        reason = "unreachable" if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "error"
        raise ProbeFailed(reason, f"DNS query failed: {exc.strerror}") from None
    except (dns.exception.DNSException, EOFError) as exc:
        raise ProbeFailed("bad_response", f"undecodable DNS answer: {type(exc).__name__}") from None
    result.phases["request"] = time.perf_counter() - start
    result.rcode = dns.rcode.to_text(answer.rcode())
    records = [rr.to_text() for rrset in answer.answer for rr in rrset]
    result.answers = len(records)
    _check(spec, result.rcode, records)
    return result


def _udp(
    query: dns.message.Message, family: int, address: tuple[object, ...], timeout: float
) -> dns.message.Message:
    """Exchange over a connected UDP socket, so that a closed port fails at once instead of timing out."""
    expiration = time.time() + timeout
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.setblocking(
            False
        )  # dnspython waits with select until `expiration`, on non-blocking sockets only
        dns.query.send_udp(sock, query, address, expiration)
        # ignore_unexpected: a stray datagram must not end the wait.
        received = dns.query.receive_udp(sock, address, expiration, ignore_unexpected=True, query=query)
    answer = received[0]
    assert isinstance(answer, dns.message.Message)
    return answer


def _check(spec: DnsSpec, rcode: str, records: list[str]) -> None:
    if rcode not in spec.valid_rcodes:
        reason = "rejected" if rcode in ("REFUSED", "SERVFAIL", "NOTIMP", "FORMERR") else "check_failed"
        raise ProbeFailed(reason, f"the resolver answered {rcode}")
    if len(records) < spec.min_answers:
        raise ProbeFailed("check_failed", f"{len(records)} answer records, fewer than {spec.min_answers}")
    for pattern in spec.answer_regex:
        if not any(pattern.search(record) for record in records):
            raise ProbeFailed("check_failed", f"no answer record matches {pattern.pattern!r}")


def dns_metrics(module: str, result: DnsResult) -> list[Metric]:
    """Return the phase durations, the response code and the number of answer records."""
    phases = GaugeMetricFamily(
        "hospmon_dns_phase_duration_seconds",
        "Time spent in each phase of the query.",
        labels=["module", "phase"],
    )
    for phase, seconds in result.phases.items():
        phases.add_metric([module, phase], seconds)
    families: list[Metric] = [phases]
    if result.rcode is not None:
        rcode = GaugeMetricFamily(
            "hospmon_dns_rcode", "Response code of the answer: 1 for it.", labels=["module", "rcode"]
        )
        rcode.add_metric([module, result.rcode], 1)
        answers = GaugeMetricFamily(
            "hospmon_dns_answers", "Records in the answer section.", labels=["module"]
        )
        answers.add_metric([module], result.answers)
        families += [rcode, answers]
    return families

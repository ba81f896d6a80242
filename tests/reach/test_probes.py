"""ICMP, TCP and DNS probes against silent, refusing and slow peers on loopback (ICMP in a namespace of
the test's own): each answers within its deadline, with the reason a night-shift engineer can act on."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric

from demo.servers.snmpd import free_udp_port
from exporters.core.probe import Deadline, ProbeFailed, ProbeRequest
from exporters.reach.main import Loaded, ReachExporter
from tests.peers import refused_port, silent_server
from tests.reach.peers import REFUSING, SILENT, SLOW, dnsmasq, icmp_lab, in_netns, printer, slow_dns

MARGIN = 0.3  # seconds past the deadline a busy shared machine may need to hand the answer back


def run(
    reach: ReachExporter, loaded: Loaded, target: str, module: str, seconds: float
) -> tuple[str, list[Metric], float]:
    """Probe one module; return the outcome (success or the failure reason), its series and the time taken."""
    request = ProbeRequest(target, (module,))
    reach.check_request(loaded, request)
    start = time.monotonic()
    try:
        metrics = list(reach.probe_module(loaded, request, module, Deadline.after(seconds)))
        outcome = "success"
    except ProbeFailed as exc:
        metrics, outcome = exc.metrics, exc.reason
    return outcome, metrics, time.monotonic() - start


def sample(metrics: Iterable[Metric], name: str, **labels: str) -> float:
    found = [
        s.value for f in metrics for s in f.samples if s.name == name and labels.items() <= s.labels.items()
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


# --- TCP: a ward printer's raw port ---------------------------------------------------------------


def test_printer_ready_passes_send_expect(reach: ReachExporter, loaded: Loaded) -> None:
    with printer() as port:
        outcome, metrics, _ = run(reach, loaded, f"127.0.0.1:{port}", "jetdirect", 5)
    assert outcome == "success"
    assert sample(metrics, "hospmon_tcp_steps_passed") == 2
    assert sample(metrics, "hospmon_tcp_phase_duration_seconds", phase="connect") > 0


def test_printer_with_its_door_open_fails_the_check(reach: ReachExporter, loaded: Loaded) -> None:
    with printer(code=40021) as port:  # PJL 40021: door open
        outcome, metrics, _ = run(reach, loaded, f"127.0.0.1:{port}", "jetdirect", 5)
    assert outcome == "check_failed"
    assert sample(metrics, "hospmon_tcp_steps_passed") == 1


def test_slow_printer_within_the_deadline_succeeds_and_shows_the_wait(
    reach: ReachExporter, loaded: Loaded
) -> None:
    with printer(delay=0.3) as port:
        outcome, metrics, _ = run(reach, loaded, f"127.0.0.1:{port}", "jetdirect", 3)
    assert outcome == "success"
    assert sample(metrics, "hospmon_tcp_phase_duration_seconds", phase="exchange") >= 0.3


@pytest.mark.parametrize("peer", ["silent", "slow"])
def test_tcp_peer_past_the_deadline_times_out_at_it(reach: ReachExporter, loaded: Loaded, peer: str) -> None:
    if peer == "silent":
        with silent_server() as server:
            outcome, metrics, elapsed = run(reach, loaded, f"127.0.0.1:{server.port}", "jetdirect", 1.0)
    else:
        with printer(delay=3) as port:
            outcome, metrics, elapsed = run(reach, loaded, f"127.0.0.1:{port}", "jetdirect", 1.0)
    assert outcome == "timeout"
    assert sample(metrics, "hospmon_tcp_steps_passed") == 1  # connected and sent; the answer never came
    assert 0.9 <= elapsed < 1.0 + MARGIN


def test_refused_port_is_unreachable_at_once(reach: ReachExporter, loaded: Loaded) -> None:
    outcome, _, elapsed = run(reach, loaded, f"127.0.0.1:{refused_port()}", "port", 5)
    assert outcome == "unreachable"
    assert elapsed < 1


def test_target_without_port_is_a_config_failure(reach: ReachExporter, loaded: Loaded) -> None:
    assert run(reach, loaded, "127.0.0.1", "port", 1)[0] == "config"


# --- DNS: the hospital's resolver and the HIS host name ---------------------------------------------


@pytest.fixture(scope="module")
def resolver() -> Iterable[int]:
    with dnsmasq() as port:
        yield port


def test_resolver_answers_the_his_name(reach: ReachExporter, loaded: Loaded, resolver: int) -> None:
    outcome, metrics, _ = run(reach, loaded, f"127.0.0.1:{resolver}", "his_dns", 5)
    assert outcome == "success"
    assert sample(metrics, "hospmon_dns_answers") == 2
    assert sample(metrics, "hospmon_dns_rcode", rcode="NOERROR") == 1


@pytest.mark.parametrize(
    ("module", "reason", "rcode"),
    [("missing_dns", "check_failed", "NXDOMAIN"), ("outside_dns", "rejected", "REFUSED")],
)
def test_resolver_refusals_carry_their_rcode(
    reach: ReachExporter, loaded: Loaded, resolver: int, module: str, reason: str, rcode: str
) -> None:
    outcome, metrics, _ = run(reach, loaded, f"127.0.0.1:{resolver}", module, 5)
    assert outcome == reason
    assert sample(metrics, "hospmon_dns_rcode", rcode=rcode) == 1


def test_dns_port_closed_is_unreachable_at_once(reach: ReachExporter, loaded: Loaded) -> None:
    outcome, _, elapsed = run(reach, loaded, f"127.0.0.1:{free_udp_port()}", "his_dns", 5)
    assert outcome == "unreachable"
    assert elapsed < 1


def test_silent_resolver_times_out_at_the_deadline(reach: ReachExporter, loaded: Loaded) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        outcome, _, elapsed = run(reach, loaded, f"127.0.0.1:{silent.getsockname()[1]}", "his_dns", 1.0)
        assert silent.recv(512)  # the query did reach it
    assert outcome == "timeout"
    assert 0.9 <= elapsed < 1.0 + MARGIN


@pytest.mark.parametrize(("deadline", "expected"), [(3.0, "success"), (0.15, "timeout")])
def test_slow_resolver(reach: ReachExporter, loaded: Loaded, deadline: float, expected: str) -> None:
    with slow_dns(0.3) as port:
        outcome, metrics, elapsed = run(reach, loaded, f"127.0.0.1:{port}", "his_dns_one", deadline)
    assert outcome == expected
    assert elapsed < deadline + MARGIN
    if expected == "success":
        assert sample(metrics, "hospmon_dns_phase_duration_seconds", phase="request") >= 0.3


# --- ICMP: a kiosk or terminal that answers only ping --------------------------------------------


def test_ping_loopback_from_this_host_says_which_socket(reach: ReachExporter, loaded: Loaded) -> None:
    outcome, metrics, _ = run(reach, loaded, "127.0.0.1", "ping", 5)
    assert outcome == "success"
    info = next(s for f in metrics for s in f.samples if s.name == "hospmon_icmp_socket_info")
    assert info.labels["socket"] in {"datagram", "raw"}
    # Where the kernel refuses datagram ICMP to our group, the fallback says why.
    assert (info.labels["socket"] == "raw") == bool(info.labels["fallback_reason"])
    assert sample(metrics, "hospmon_icmp_phase_duration_seconds", phase="rtt") > 0


@pytest.fixture(scope="module")
def lab() -> Iterable[str]:
    with icmp_lab(slow_seconds=0.3) as name:
        yield name


@pytest.mark.parametrize("module", ["ping_datagram", "ping_raw"])
def test_icmp_slow_silent_and_refusing_peers(
    reach: ReachExporter, loaded: Loaded, lab: str, module: str
) -> None:
    slow = in_netns(lab, lambda: run(reach, loaded, SLOW, module, 3.0))
    assert slow[0] == "success"
    assert sample(slow[1], "hospmon_icmp_phase_duration_seconds", phase="rtt") >= 0.3
    late = in_netns(lab, lambda: run(reach, loaded, SLOW, module, 0.15))
    assert late[0] == "timeout" and late[2] < 0.15 + MARGIN
    silent = in_netns(lab, lambda: run(reach, loaded, SILENT, module, 1.0))
    assert silent[0] == "timeout" and 0.9 <= silent[2] < 1.0 + MARGIN
    refusing = in_netns(lab, lambda: run(reach, loaded, REFUSING, module, 3.0))
    assert refusing[0] == "unreachable" and refusing[2] < 1
    info = next(s for f in silent[1] for s in f.samples if s.name == "hospmon_icmp_socket_info")
    assert info.labels["socket"] == module.removeprefix("ping_")


# --- TCP with TLS: an HL7 listener behind TLS ----------------------------------------------------


def test_tcp_over_tls_shows_the_certificate_verified_or_refused(
    reach: ReachExporter, tls_cert: tuple[Path, Path], tmp_path: Path
) -> None:
    config = tmp_path / "reach.yml"
    config.write_text(
        "allow_adhoc_targets: true\nadhoc_cidrs: [127.0.0.0/8]\nmodules:\n"
        f"  trusted: {{kind: tcp, tcp: {{tls: true, tls_config: {{ca_file: '{tls_cert[0]}'}}}}}}\n"
        "  untrusted: {kind: tcp, tcp: {tls: true}}\n"
    )
    loaded = reach.load_config(config)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        stop = threading.Event()

        def serve() -> None:
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
                    pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            trusted = run(reach, loaded, f"127.0.0.1:{port}", "trusted", 5)
            untrusted = run(reach, loaded, f"127.0.0.1:{port}", "untrusted", 5)
        finally:
            stop.set()
            thread.join(5)
    assert trusted[0] == "success"
    assert sample(trusted[1], "hospmon_tcp_tls_version_info", version="TLSv1.3") == 1
    assert untrusted[0] == "auth"  # self-signed, no CA given: refused, but its expiry still shows
    expiry = sample(untrusted[1], "hospmon_tcp_tls_cert_expiry_timestamp_seconds")
    assert expiry == sample(trusted[1], "hospmon_tcp_tls_cert_expiry_timestamp_seconds")
    assert 0 < expiry - time.time() <= 2 * 86400

"""SNMPv3 security levels; every failure answers within its deadline with its reason and no secret."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from pathlib import Path

import pytest
import yaml

from demo.servers.snmpd import V3_USERS, Agent, free_udp_port
from exporters.core.probe import BadRequest, Deadline, ProbeFailed, ProbeRequest
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.conftest import write_config
from tests.network.helpers import probe, value
from tests.servers import LATE

SECRETS = ["not-public", "wrong-priv", "wrong-pass"] + [
    str(s) for u in V3_USERS.values() for s in (u[2], u[4]) if s
]
# "public" is left out: it is also part of auth names such as public_v2.


@pytest.mark.parametrize(
    "auth",
    [
        *("hm_sha_aes", "hm_sha256_aes", "hm_sha_des", "hm_sha_aes256", "hm_auth", "hm_noauth"),
        *("public_v1", "public_v2_pysnmp"),
    ],
)
def test_every_version_and_security_level_reads_the_agent(
    exporter: NetworkExporter, runtime: Runtime, agent: Agent, auth: str
) -> None:
    fams = probe(exporter, runtime, agent.target, "system", auth=auth)
    info = next(s for f in fams for s in f.samples if s.name == "hospmon_snmp_system_info")
    assert info.labels["sysName"] == "hm-lab-agent"
    assert value(fams, "hospmon_snmp_system_uptime_seconds") > 0


def test_v3_authpriv_walks_a_table(exporter: NetworkExporter, runtime: Runtime, agent: Agent) -> None:
    v2 = probe(exporter, runtime, agent.target, "ups")
    v3 = probe(exporter, runtime, agent.target, "ups", auth="hm_sha256_aes")
    assert [f.samples for f in v2] == [f.samples for f in v3]


def test_snmpv1_walks_tables_with_getnext(exporter: NetworkExporter, runtime: Runtime, agent: Agent) -> None:
    v1 = probe(exporter, runtime, agent.target, "ups", auth="public_v1")
    v2 = probe(exporter, runtime, agent.target, "ups")
    assert [f.samples for f in v1] == [f.samples for f in v2]


def _fail(
    exporter: NetworkExporter,
    runtime: Runtime,
    target: str,
    auth: str,
    deadline: float,
    module: str = "system",
) -> tuple[ProbeFailed, float]:
    request = ProbeRequest(target, (module,), {"auth": auth})
    exporter.check_request(runtime, request)
    start = time.monotonic()
    with pytest.raises(ProbeFailed) as info:
        list(exporter.probe_module(runtime, request, module, Deadline.after(deadline)))
    return info.value, time.monotonic() - start


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        ("wrong_community", "timeout"),
        ("v3_wrong_password", "auth"),
        ("v3_wrong_password_pysnmp", "auth"),
        ("v3_wrong_priv_password", "auth"),
        ("v3_unknown_user", "auth"),
    ],
)
def test_wrong_credentials_fail_within_the_deadline(
    exporter: NetworkExporter,
    runtime: Runtime,
    agent: Agent,
    auth: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # pysnmp builds an engine and loads its MIB objects per session: seconds of CPU on a loaded machine.
    deadline = 5.0 if auth.endswith("_pysnmp") else 2.0
    failure, elapsed = _fail(exporter, runtime, agent.target, auth, deadline)
    assert failure.reason == reason
    assert elapsed < deadline + LATE
    shown = str(failure) + caplog.text
    assert not [s for s in SECRETS if s in shown]


def test_closed_port_is_unreachable_quickly(exporter: NetworkExporter, runtime: Runtime) -> None:
    failure, elapsed = _fail(exporter, runtime, f"127.0.0.1:{free_udp_port()}", "public_v2", 3.0)
    assert failure.reason == "unreachable"
    assert elapsed < 1.0


def test_silent_host_times_out_at_the_deadline_even_with_long_timeouts(
    exporter: NetworkExporter, runtime: Runtime
) -> None:
    # A bound loopback socket that never answers: no ICMP port-unreachable comes back, so the only way out is
    # the deadline (1 s), shorter than timeout x retries. No packet leaves loopback.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{silent.getsockname()[1]}"
        for auth in ("public_v2", "hm_sha_aes"):
            failure, elapsed = _fail(exporter, runtime, target, auth, 1.0)
            assert failure.reason == "timeout", auth
            assert elapsed < 1.3, auth
        received = 0
        silent.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while silent.recv(65535):
                received += 1
        assert received >= 2  # both probes really reached the silent peer


def test_module_the_agent_lacks_fails_as_bad_response(
    exporter: NetworkExporter, runtime: Runtime, switch_agent: Agent
) -> None:
    failure, _ = _fail(exporter, runtime, switch_agent.target, "public_v2", 3.0, module="ups")
    assert failure.reason == "bad_response"


@pytest.mark.parametrize(
    ("target", "params", "message"),
    [
        ("127.0.0.1", {"auth": "nope"}, "unknown auth 'nope'"),
        ("127.0.0.1:99999", {}, "invalid port"),
        ("host/../x", {}, "invalid target"),
        ("[::1", {}, "invalid target"),
        ("", {}, "invalid target"),
    ],
)
def test_bad_requests_are_rejected_with_their_reason(
    exporter: NetworkExporter, runtime: Runtime, target: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        exporter.check_request(runtime, ProbeRequest(target, ("system",), params))


def test_unknown_module_is_a_bad_request(exporter: NetworkExporter, runtime: Runtime) -> None:
    with pytest.raises(BadRequest, match="unknown module nope"):
        exporter.check_request(runtime, ProbeRequest("127.0.0.1", ("system", "nope"), {}))


def test_credentials_repr_hides_secrets(runtime: Runtime) -> None:
    shown = repr(runtime) + str(runtime.credentials)
    assert not [s for s in SECRETS if s in shown]


def test_wrong_privacy_password_is_auth_within_the_first_exchange(
    exporter: NetworkExporter, agent: Agent, tmp_path: Path
) -> None:
    # Shipped timing (5 s x 4 tries, 9.5 s deadline): net-snmp drops what it cannot decrypt without a
    # report, so only the canary tells it from a dead agent, and it must do so long before any timeout.
    shipped = exporter.load_config(write_config(tmp_path, defaults={"timeout": 5, "retries": 3}))
    for auth in ("v3_wrong_priv_password", "hm_sha_aes"):
        reason, detail, elapsed = _shipped_outcome(exporter, shipped, agent.target, auth)
        assert reason == ("auth" if auth.startswith("v3_wrong") else "success"), auth
        assert reason == "success" or "privacy password" in detail
        assert elapsed < 2.0, (auth, elapsed)


def _shipped_outcome(
    exporter: NetworkExporter, runtime: Runtime, target: str, auth: str
) -> tuple[str, str, float]:
    """Probe `system` with the shipped 9.5 s deadline; return the outcome, failure detail and time."""
    request = ProbeRequest(target, ("system",), {"auth": auth})
    start = time.monotonic()
    try:
        list(exporter.probe_module(runtime, request, "system", Deadline.after(9.5)))
        reason, detail = "success", ""
    except ProbeFailed as exc:
        reason, detail = exc.reason, exc.detail
    return reason, detail, time.monotonic() - start


@pytest.mark.parametrize("user", ["hm_sha_des", "hm_sha_aes256"])
def test_wrong_privacy_password_is_auth_on_pysnmp_too(
    exporter: NetworkExporter, agent: Agent, tmp_path: Path, user: str
) -> None:
    # An old switch's DES (or an AES-256) user is served by pysnmp, which net-snmp's silence would leave to
    # time out at the deadline: its canary tells the wrong password first (about 1-2 s on an idle machine;
    # pysnmp's CPU per message makes it several seconds on a loaded one, hence the margin). The right
    # password through the same canary is test_every_version_and_security_level_reads_the_agent's.
    config = yaml.safe_load(write_config(tmp_path).read_text())
    wrong = dict(
        config["auths"][user],
        priv_password_file=config["auths"]["v3_wrong_priv_password"]["priv_password_file"],
    )
    shipped = exporter.load_config(
        write_config(tmp_path, auths={"wrong": wrong}, defaults={"timeout": 5, "retries": 3})
    )
    reason, detail, elapsed = _shipped_outcome(exporter, shipped, agent.target, "wrong")
    assert reason == "auth"
    assert "drops encrypted ones" in detail
    assert elapsed < 8.5

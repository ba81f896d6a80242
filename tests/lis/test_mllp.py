"""The MLLP probe against hl7apy's MLLP server answering AA, AE, AR, never or with broken framing."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from exporters.core.server import RunningServer
from tests.lis.conftest import ScriptedServer
from tests.peers import refused_port


def probe(exporter: RunningServer, query: str, timeout_header: str | None = None) -> tuple[int, str]:
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout_header} if timeout_header else {}
    request = urllib.request.Request(f"{exporter.url}/probe?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(("module", "message_type"), [("mllp", "ADT^A01"), ("orm", "ORM^O01")])
def test_positive_ack_succeeds(
    exporter: RunningServer, mllp_server: ScriptedServer, module: str, message_type: str
) -> None:
    status, body = probe(exporter, f"target={mllp_server.target}&module={module}")
    assert status == 200
    assert f'hospmon_probe_success{{module="{module}"}} 1.0' in body
    assert f'hospmon_mllp_ack{{code="AA",message_type="{message_type}"}} 1.0' in body
    rtt = next(x for x in body.splitlines() if x.startswith("hospmon_mllp_round_trip_seconds "))
    assert 0 < float(rtt.split()[1]) < 5
    assert mllp_server.received == [message_type]
    assert "patient" not in body  # MSA-3 text is never exported


@pytest.mark.parametrize("code", ["AE", "AR", "CR"])
def test_negative_ack_is_rejected_with_its_code(
    exporter: RunningServer, mllp_server: ScriptedServer, code: str
) -> None:
    mllp_server.mode = code
    status, body = probe(exporter, f"target={mllp_server.target}&module=mllp")
    assert status == 200
    assert 'hospmon_probe_success{module="mllp"} 0.0' in body
    assert 'hospmon_probe_failure{module="mllp",reason="rejected"} 1.0' in body
    assert f'hospmon_mllp_ack{{code="{code}",message_type="ADT^A01"}} 1.0' in body
    assert "patient" not in body


def test_commit_accept_succeeds(exporter: RunningServer, mllp_server: ScriptedServer) -> None:
    mllp_server.mode = "CA"
    assert 'hospmon_probe_success{module="mllp"} 1.0' in probe(exporter, f"target={mllp_server.target}")[1]


@pytest.mark.parametrize("mode", ["unframed", "wrong_id"])
def test_broken_answer_is_a_bad_response(
    exporter: RunningServer, mllp_server: ScriptedServer, mode: str
) -> None:
    mllp_server.mode = mode
    status, body = probe(exporter, f"target={mllp_server.target}&module=mllp")
    assert status == 200
    assert 'hospmon_probe_failure{module="mllp",reason="bad_response"} 1.0' in body


def test_silent_interface_times_out_within_the_deadline(
    exporter: RunningServer, mllp_server: ScriptedServer
) -> None:
    mllp_server.mode = "never"
    start = time.monotonic()
    status, body = probe(exporter, f"target={mllp_server.target}&module=mllp", "2.5")
    elapsed = time.monotonic() - start
    assert status == 200
    assert 'hospmon_probe_failure{module="mllp",reason="timeout"} 1.0' in body
    assert elapsed < 2.5, f"answered after {elapsed:.2f} s; the deadline was 2.0 s"


def test_module_timeout_caps_the_wait(exporter: RunningServer, mllp_server: ScriptedServer) -> None:
    mllp_server.mode = "never"
    start = time.monotonic()
    _, body = probe(exporter, f"target={mllp_server.target}&module=mllp_short", "10")
    elapsed = time.monotonic() - start
    assert 'hospmon_probe_failure{module="mllp_short",reason="timeout"} 1.0' in body
    assert 0.9 < elapsed < 3


def test_closed_port_is_unreachable(exporter: RunningServer) -> None:
    status, body = probe(exporter, f"target=127.0.0.1:{refused_port()}&module=mllp")
    assert status == 200
    assert 'hospmon_probe_failure{module="mllp",reason="unreachable"} 1.0' in body


def test_bad_target_gets_400(exporter: RunningServer) -> None:
    assert probe(exporter, "target=lis.example&module=mllp")[0] == 400

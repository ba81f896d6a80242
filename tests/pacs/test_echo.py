"""C-ECHO against dcmtk's dcmqrscp and Orthanc, a peer that never answers and a closed port."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from exporters.core.server import RunningServer
from exporters.pacs.main import main
from tests.pacs.conftest import ARCHIVE_AE, Scp
from tests.peers import PEER_SOCKET_LEAK, refused_port, silent_server, stop_dicom_server


def probe(exporter: RunningServer, query: str, timeout_header: str | None = None) -> tuple[int, str]:
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout_header} if timeout_header else {}
    request = urllib.request.Request(f"{exporter.url}/probe?{query}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_echo_succeeds_with_latencies(exporter: RunningServer, scp: Scp) -> None:
    status, body = probe(exporter, f"target={scp.target}&module=echo&called_ae={scp.ae_title}")
    assert status == 200
    assert 'hospmon_probe_success{module="echo"} 1.0' in body
    for family in ("hospmon_dicom_association_seconds", "hospmon_dicom_echo_seconds"):
        line = next(x for x in body.splitlines() if x.startswith(f'{family}{{called_ae="{scp.ae_title}"}}'))
        assert 0 < float(line.split()[-1]) < 5


def test_wrong_called_ae_is_rejected_with_its_reason(exporter: RunningServer, scp: Scp) -> None:
    status, body = probe(exporter, f"target={scp.target}&module=echo&called_ae=NOT_HERE")
    assert status == 200
    assert 'hospmon_probe_success{module="echo"} 0.0' in body
    assert 'hospmon_probe_failure{module="echo",reason="rejected"} 1.0' in body
    assert (
        'hospmon_dicom_association_rejected{called_ae="NOT_HERE",reason="called_ae_not_recognised",'
        'result="permanent",source="service_user"} 1.0'
    ) in body


def test_silent_peer_times_out_within_the_deadline(exporter: RunningServer) -> None:
    with silent_server() as silent:
        start = time.monotonic()
        status, body = probe(exporter, f"target=127.0.0.1:{silent.port}&module=echo", "2.5")
        elapsed = time.monotonic() - start
    assert status == 200
    assert 'hospmon_probe_failure{module="echo",reason="timeout"} 1.0' in body
    assert elapsed < 2.5, f"answered after {elapsed:.2f} s; the deadline was 2.0 s"


def test_module_timeout_caps_the_wait_below_the_deadline(exporter: RunningServer) -> None:
    with silent_server() as silent:
        start = time.monotonic()
        status, body = probe(exporter, f"target=127.0.0.1:{silent.port}&module=echo_short", "10")
        elapsed = time.monotonic() - start
    assert status == 200
    assert 'hospmon_probe_failure{module="echo_short",reason="timeout"} 1.0' in body
    assert 0.9 < elapsed < 3, f"answered after {elapsed:.2f} s; the module caps waits at 1 s"


def test_closed_port_is_unreachable(exporter: RunningServer) -> None:
    status, body = probe(exporter, f"target=127.0.0.1:{refused_port()}&module=echo")
    assert status == 200
    assert 'hospmon_probe_failure{module="echo",reason="unreachable"} 1.0' in body


def test_bad_called_ae_and_target_get_400(exporter: RunningServer) -> None:
    assert probe(exporter, "target=127.0.0.1:104&called_ae=" + "A" * 17)[0] == 400
    assert probe(exporter, "target=127.0.0.1&module=echo")[0] == 400


def test_command_line_checks_the_config(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text("modules:\n  echo: {calling_ae: HOSPMON, called_ae: ARCHIVE}\n")
    bad.write_text("modules:\n  echo: {calling_ae: 'BACK\\\\SLASH', called_ae: " + "A" * 17 + "}\n")
    assert main(["--config.file", str(good), "--check-config"]) == 0
    assert main(["--config.file", str(bad), "--check-config"]) == 1


def test_called_ae_defaults_to_the_config(exporter: RunningServer, dcmqrscp: Scp) -> None:
    _, body = probe(exporter, f"target={dcmqrscp.target}")
    assert 'hospmon_probe_success{module="echo"} 1.0' in body
    assert 'hospmon_dicom_echo_seconds{called_ae="HOSPMON_ARC"}' in body


@pytest.mark.filterwarnings(PEER_SOCKET_LEAK)
def test_peer_that_accepts_but_never_answers_the_echo_times_out(exporter: RunningServer) -> None:
    release = threading.Event()

    def hold(_event: evt.Event) -> int:
        release.wait(10)
        return 0x0000

    scp = AE(ae_title=ARCHIVE_AE)
    scp.add_supported_context(Verification)
    scp.acse_timeout = 1  # the probe's TCP pre-check opens a connection that never associates
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_ECHO, hold)])
    assert server is not None
    port = server.server_address[1]
    try:
        start = time.monotonic()
        _, body = probe(exporter, f"target=127.0.0.1:{port}&module=echo", "2.5")
        elapsed = time.monotonic() - start
    finally:
        release.set()
        stop_dicom_server(server)
    assert 'hospmon_probe_failure{module="echo",reason="timeout"} 1.0' in body
    assert elapsed < 2.5, f"answered after {elapsed:.2f} s; the deadline was 2.0 s"

"""ClamAV's clamd, the engine behind the mail gateway and the upload paths: up or not, and how old its
signatures are, against Debian's clamd loading databases the test built (fresh, and ten days stale)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator

import pytest

from exporters.reach.main import Loaded, ReachExporter
from tests.peers import refused_port, silent_server
from tests.reach.clamav import Clamd, clamd
from tests.reach.test_probes import MARGIN, run, sample

STALE_DAYS = 10


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Clamd, Clamd]]:
    """The mail gateway's clamd, updated this morning, and the file server's, whose updates stopped."""
    with (
        clamd(tmp_path_factory.mktemp("clamd-mail"), version=27480, age_days=0.2) as mail,
        clamd(tmp_path_factory.mktemp("clamd-files"), version=27470, age_days=STALE_DAYS) as files,
    ):
        yield mail, files


def test_signature_version_and_build_time_come_from_the_engine(
    reach: ReachExporter, loaded: Loaded, engines: tuple[Clamd, Clamd]
) -> None:
    for engine in engines:
        outcome, metrics, _ = run(reach, loaded, engine.target, "clamav", 5)
        assert outcome == "success"
        assert sample(metrics, "hospmon_antivirus_signature_version", database="daily") == engine.db_version
        # clamd prints the build time in its host's zone (Asia/Shanghai here); the module is told the zone.
        assert sample(metrics, "hospmon_antivirus_signature_timestamp_seconds") == engine.db_time
        assert sample(metrics, "hospmon_antivirus_engine_info", engine="ClamAV") == 1
        assert sample(metrics, "hospmon_antivirus_threads", state="max") == 10  # clamd's MaxThreads default
        assert sample(metrics, "hospmon_antivirus_queue_items") == 0


def test_a_module_told_the_wrong_zone_is_off_by_that_zone(
    reach: ReachExporter, loaded: Loaded, engines: tuple[Clamd, Clamd]
) -> None:
    _, metrics, _ = run(reach, loaded, engines[0].target, "clamav_utc", 5)
    shanghai = 8 * 3600  # why the zone is a setting: a Shanghai clamd read as UTC looks 8 hours younger
    assert sample(metrics, "hospmon_antivirus_signature_timestamp_seconds") == engines[0].db_time + shanghai


class _Banner(socketserver.StreamRequestHandler):
    """Another service on the port clamd should hold: it greets and hangs up, whatever it is asked."""

    def handle(self) -> None:
        self.wfile.write(b"220 file-server FTP ready\r\n")


@pytest.mark.parametrize("peer", ["stopped", "silent", "not_clamd"])
def test_an_engine_that_is_down_fails_within_the_deadline(
    reach: ReachExporter, loaded: Loaded, peer: str
) -> None:
    expected = {"stopped": "unreachable", "silent": "timeout", "not_clamd": "bad_response"}[peer]
    if peer == "stopped":
        outcome, metrics, elapsed = run(reach, loaded, f"127.0.0.1:{refused_port()}", "clamav", 1)
    elif peer == "silent":
        with silent_server() as silent:
            outcome, metrics, elapsed = run(reach, loaded, f"127.0.0.1:{silent.port}", "clamav", 1)
    else:
        with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Banner) as server:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
            thread.start()
            try:
                target = f"127.0.0.1:{server.server_address[1]}"
                outcome, metrics, elapsed = run(reach, loaded, target, "clamav", 1)
            finally:
                server.shutdown()
                thread.join()
    assert outcome == expected
    assert elapsed < 1 + MARGIN
    assert not [f for f in metrics if f.name.startswith("hospmon_antivirus_signature")]

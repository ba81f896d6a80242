"""`systemctl reload` and `systemctl stop` act at once, whichever of the exporter's threads the kernel picks.

A process-directed signal may land on any thread; an exporter whose main thread slept in a lock's wait ran
the handler only when that wait ended, an hour later: the reload never happened and systemd killed the
service at its stop timeout. Ten reloads in a row make the old behaviour fail almost surely.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.core.test_config_encoding import CONFIG, _metric
from tests.servers import free_port, process, wait_for

RELOADED = "hospmon_exporter_config_last_reload_success_timestamp_seconds"


def test_every_sighup_reloads_and_sigterm_stops_promptly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSPMON_TEST_ENC_PASSWORD", "x")
    path = tmp_path / "database.yml"
    path.write_text(CONFIG, encoding="utf-8")
    base = f"http://127.0.0.1:{free_port()}"
    argv = [
        sys.executable,
        "-m",
        "exporters.database.main",
        f"--config.file={path}",
        f"--web.listen-address={base.removeprefix('http://')}",
    ]
    with process(argv, f"{base}/-/healthy", tmp_path / "exporter.log") as proc:
        for attempt in range(10):
            before = _metric(base, RELOADED)
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda b=before: _metric(base, RELOADED) != b, 10, f"reload {attempt + 1} of 10")
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(20) == 0
        print(f"stopped {time.monotonic() - started:.2f} s after SIGTERM")

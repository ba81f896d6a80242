"""`make demo`'s launcher: the stack comes up with every target up and the warranty alert in Alertmanager."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import require

REPO = Path(__file__).resolve().parent.parent
DEMO_PORTS = (19090, 19093, 19101)


def test_demo_check(tmp_path: Path) -> None:
    require("prometheus")
    require("prometheus-alertmanager")
    for port in DEMO_PORTS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"port {port} is in use: stop the running `make demo` before the tests")
    result = subprocess.run(
        [sys.executable, "-m", "hospmon.cli", "demo", "--check", "--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every Prometheus target is up" in result.stdout
    assert "warranty alert for ups-mr1-02 is in Alertmanager" in result.stdout
    targets = sorted(p.name for p in (tmp_path / "run" / "prometheus" / "targets").iterdir())
    assert "native-metrics.json" in targets

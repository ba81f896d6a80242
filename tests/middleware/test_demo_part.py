"""The demo's interface engine part: its exporter config, the demo inventory's CI and the simulator agree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from demo.integration import engine as simulated
from demo.launcher import DEMO_INVENTORY
from demo.parts import integration
from exporters.core.server import ExporterApp, RunningServer
from exporters.middleware.main import MiddlewareExporter
from tests.middleware.conftest import one, probe


def test_the_demo_exporter_reads_the_demo_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    engine_part, exporter_part = integration.parts(run, run / "inventory")
    assert (engine_part.name, exporter_part.name) == ("integration-engine", "middleware-exporter")
    password = (run / "integration" / "secrets" / "engine-password").read_text().strip()
    engine = simulated.Engine()
    server = simulated.serve(engine, password, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        # The demo inventory, with the engine on this test's port instead of the demo's fixed one.
        shutil.copytree(DEMO_INVENTORY, run / "inventory")
        apps = run / "inventory" / "60-cis-applications.yml"
        demo_url = f"http://127.0.0.1:{integration.ENGINE_PORT}"
        assert demo_url in apps.read_text()
        apps.write_text(apps.read_text().replace(demo_url, url))
        monkeypatch.chdir(run / "integration")  # secrets/ is read from the exporter's working folder
        app = ExporterApp(MiddlewareExporter(), run / "integration" / "middleware.yml")
        with RunningServer(app, "127.0.0.1", 0) as exporter:
            status, body = probe(exporter.url, url, "mirth")
        assert status == 200 and one(body, "hospmon_probe_success") == 1, body
        assert one(body, "hospmon_engine_channels", state="started") == len(simulated.CHANNELS)
    finally:
        server.shutdown()
        server.server_close()

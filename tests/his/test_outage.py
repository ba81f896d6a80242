"""The HIS database stops or hangs: the business probes fail with a reason at the next scrape, in time."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.his.main import HisExporter
from tests.database.servers import MariaDB
from tests.his.conftest import his_config, his_server, probe, value
from tests.servers import frozen

SCRAPE_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def doomed_db() -> Iterator[MariaDB]:
    """A HIS database of its own, since these tests stop it."""
    with his_server() as server:
        yield server


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory, doomed_db: MariaDB) -> Iterator[RunningServer]:
    path = his_config(tmp_path_factory.mktemp("his"), doomed_db.port)
    with RunningServer(ExporterApp(HisExporter(), path), "127.0.0.1", 0) as server:
        yield server


def timed_probe(exporter: RunningServer, module: str) -> tuple[str, float]:
    started = time.monotonic()
    body = probe(exporter.url, "his-db", module, timeout=str(SCRAPE_TIMEOUT))
    return body, time.monotonic() - started


def test_hung_then_stopped_database(exporter: RunningServer, doomed_db: MariaDB) -> None:
    body, _ = timed_probe(exporter, "business")
    assert value(body, 'hospmon_probe_success{module="business"}') == 1  # and a pooled session is kept

    # Hung: the server process is frozen; pooled and new sessions both wait on it.
    with frozen(doomed_db.proc.pid):
        body, seconds = timed_probe(exporter, "business")
    assert value(body, 'hospmon_probe_success{module="business"}') == 0
    assert value(body, 'hospmon_probe_failure{module="business",reason="timeout"}') == 1
    assert seconds < SCRAPE_TIMEOUT
    print(f"hung database: probe failed with timeout after {seconds:.2f} s")

    # Stopped: connections are refused at once.
    doomed_db.proc.terminate()
    doomed_db.proc.wait(30)
    for module in ("business", "insurance", "interfaces"):
        body, seconds = timed_probe(exporter, module)
        assert value(body, f'hospmon_probe_success{{module="{module}"}}') == 0
        assert value(body, f'hospmon_probe_failure{{module="{module}",reason="unreachable"}}') == 1
        assert seconds < SCRAPE_TIMEOUT
    # Each query says why it failed, for the dashboard.
    assert value(body, 'hospmon_his_query_failure{query="interfaces",reason="unreachable"}') == 1

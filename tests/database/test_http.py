"""The database exporter served over HTTP by the core server, against the real servers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.core.server import ExporterApp, RunningServer
from exporters.database.exporter import DatabaseExporter
from tests.database.conftest import CONFIG
from tests.database.helpers import Admin, eventually
from tests.database.servers import MONITOR_PASSWORD, MariaDB, Postgres, free_port
from tests.database.test_engines import MODULES
from tests.peers import silent_server


@pytest.fixture
def exporter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mariadb: MariaDB, postgres: Postgres
) -> Iterator[str]:
    monkeypatch.setenv("HOSPMON_TEST_DB_PASSWORD", MONITOR_PASSWORD)
    monkeypatch.setenv("HOSPMON_TEST_WRONG_PASSWORD", "not-the-password")
    path = tmp_path / "database.yml"
    path.write_text(
        CONFIG.format(my_port=mariadb.port, pg_port=postgres.port, dead_port=free_port(), modules=MODULES)
    )
    with RunningServer(ExporterApp(DatabaseExporter(), path), "127.0.0.1", 0) as server:
        yield server.url


def scrape(
    url: str, timeout: float = 5.0
) -> tuple[int, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    request = urllib.request.Request(url, headers={"X-Prometheus-Scrape-Timeout-Seconds": str(timeout)})
    try:
        with urllib.request.urlopen(request, timeout=timeout + 5) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    flat = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            flat[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return status, flat


def test_probe_named_targets_several_modules(exporter: str) -> None:
    status, flat = scrape(f"{exporter}/probe?target=pg&module=health,custom")
    assert status == 200
    assert flat[("hospmon_probe_success", (("module", "health"),))] == 1
    assert flat[("hospmon_probe_success", (("module", "custom"),))] == 1
    assert flat[("hospmon_db_up", ())] == 1
    assert flat[("hospmon_test_patients", (("clinic", "general"),))] == 2


def test_probe_host_port_with_auth(exporter: str, mariadb: MariaDB) -> None:
    url = f"{exporter}/probe?target=127.0.0.1:{mariadb.port}&auth=monitor&engine=mysql&database=his"
    status, flat = scrape(url)
    assert status == 200 and flat[("hospmon_db_up", ())] == 1
    assert scrape(f"{exporter}/probe?target=127.0.0.1:{mariadb.port}")[0] == 400
    assert scrape(f"{exporter}/probe?target=no-such-db")[0] == 400
    assert scrape(f"{exporter}/probe?target=pg&module=no_such_module")[0] == 400


def test_hanging_module_fails_alone_within_the_scrape_timeout(exporter: str, postgres: Postgres) -> None:
    start = time.monotonic()
    status, flat = scrape(f"{exporter}/probe?target=pg&module=health,all_hang", timeout=3)
    assert time.monotonic() - start < 3
    assert status == 200
    assert flat[("hospmon_probe_success", (("module", "health"),))] == 1
    assert flat[("hospmon_probe_failure", (("module", "all_hang"), ("reason", "timeout")))] == 1
    assert Admin("postgres", postgres).monitor_sessions(running_only=True) == 0


def test_pool_sizes_on_metrics(exporter: str) -> None:
    _, flat = scrape(f"{exporter}/metrics")
    assert flat[("hospmon_db_pool_connections", (("target", "maria"),))] == 0  # there before the first probe
    assert flat[("hospmon_db_server_round_trips_total", (("target", "maria"),))] == 0
    scrape(f"{exporter}/probe?target=maria")
    _, flat = scrape(f"{exporter}/metrics")
    assert flat[("hospmon_db_pool_connections", (("target", "maria"),))] == 1
    assert flat[("hospmon_db_pool_connections_peak", (("target", "maria"),))] <= 2


def test_cached_families_shared_by_two_modules_do_not_grow(exporter: str) -> None:
    """The core merges same-named families of two modules; cached results must not collect the merges."""
    url = f"{exporter}/probe?target=maria&module=custom_first,custom_twin"
    for _ in range(3):
        with urllib.request.urlopen(url, timeout=10) as response:
            lines = [
                x
                for x in response.read().decode().splitlines()
                if x.startswith("hospmon_test_answer_by_copy")
            ]
        assert sorted(lines) == [
            'hospmon_test_answer_by_copy{copy="first"} 42.0',
            'hospmon_test_answer_by_copy{copy="twin"} 43.0',
        ]


def test_reload_closes_the_old_pools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mariadb: MariaDB, postgres: Postgres
) -> None:
    monkeypatch.setenv("HOSPMON_TEST_DB_PASSWORD", MONITOR_PASSWORD)
    monkeypatch.setenv("HOSPMON_TEST_WRONG_PASSWORD", "not-the-password")
    path = tmp_path / "database.yml"
    path.write_text(
        CONFIG.format(my_port=mariadb.port, pg_port=postgres.port, dead_port=free_port(), modules="  {}")
    )
    admin = Admin("postgres", postgres)
    before = admin.monitor_sessions(running_only=False)
    with RunningServer(ExporterApp(DatabaseExporter(), path), "127.0.0.1", 0) as server:
        assert scrape(f"{server.url}/probe?target=pg")[1][("hospmon_db_up", ())] == 1
        assert admin.monitor_sessions(running_only=False) == before + 1  # the idle pooled connection
        assert server.app.reload() is None
        assert eventually(lambda: admin.monitor_sessions(running_only=False) == before)
        assert scrape(f"{server.url}/probe?target=pg")[1][("hospmon_db_up", ())] == 1
    assert eventually(lambda: admin.monitor_sessions(running_only=False) == before)


def test_database_that_is_down_or_silent_reads_up_0(exporter: str) -> None:
    # A missing series would leave `hospmon_db_up == 0` alerts and dashboards blind exactly when it matters.
    with silent_server() as silent:
        hung = f"127.0.0.1:{silent.port}&auth=monitor&engine=mysql"
        for target, timeout in (("nothing-there", 5.0), (hung, 1.0)):  # refused; cut by the deadline
            status, flat = scrape(f"{exporter}/probe?target={target}", timeout=timeout)
            assert status == 200
            assert flat[("hospmon_probe_success", (("module", "health"),))] == 0, target
            assert flat[("hospmon_db_up", ())] == 0, target

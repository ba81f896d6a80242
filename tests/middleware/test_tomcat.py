"""The HIS application server: Debian's Tomcat 10 read through its manager's JMX proxy, for real.

Monday morning at the registration windows: the HIS application on Tomcat waits on its database, its
connection pool runs dry and request threads pile up. The applications team must be told which pool of which
server, before the queue at the windows tells them.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from demo.servers.tomcat import Tomcat
from tests.middleware.conftest import one, probe, samples, scrape_labels
from tests.promtool import captured_series, expected_alert, run_rule_test
from tests.servers import http_get, wait_for

POOL_SERIES = ["hospmon_tomcat_jdbc_connections_active", "hospmon_tomcat_jdbc_connections_max"]


@pytest.fixture
def held(tomcat: Tomcat) -> object:
    """Give back every connection a test held, whatever happened."""
    yield None
    tomcat.get("/his/release.jsp")


def test_reads_heap_gc_threads_and_both_pools(exporter: str, tomcat: Tomcat) -> None:
    status, body = probe(exporter, tomcat.url, "tomcat")
    assert status == 200, body
    assert one(body, "hospmon_probe_success") == 1
    info = samples(body, "hospmon_tomcat_info")
    (labels,) = info
    assert dict(labels)["server"].startswith("Apache Tomcat/10.1.")
    assert dict(labels)["version"].startswith("10.1.")
    used = one(body, "hospmon_tomcat_jvm_memory_used_bytes", area="heap")
    assert 0 < used <= one(body, "hospmon_tomcat_jvm_memory_max_bytes", area="heap") <= 128 * 2**20
    collectors = samples(body, "hospmon_tomcat_jvm_gc_collections_total")
    assert {dict(k)["gc"] for k in collectors} == {"Copy", "MarkSweepCompact"}  # -XX:+UseSerialGC
    assert one(body, "hospmon_tomcat_threads_max") == 12
    assert one(body, "hospmon_tomcat_threads_busy") >= 1  # this very request
    # Both of Tomcat's pool implementations, by web application and JNDI name, with their configured maxima.
    assert one(body, "hospmon_tomcat_jdbc_connections_max", context="/his", pool="jdbc/his") == 6
    assert one(body, "hospmon_tomcat_jdbc_connections_max", context="/his", pool="jdbc/lis") == 4
    assert samples(body, "hospmon_tomcat_sessions_active")
    # The DataSource MBean shows the pool's password in clear; nothing of it may leave the exporter.
    assert "password" not in body.lower()


def test_pool_and_request_counts_follow_the_application(exporter: str, tomcat: Tomcat, held: object) -> None:
    tomcat.get("/his/hold.jsp?pool=his&n=2")
    tomcat.get("/his/hold.jsp?pool=lis&n=1")
    before = one(probe(exporter, tomcat.url, "tomcat")[1], "hospmon_tomcat_request_errors_total")
    for _ in range(3):
        assert http_get(f"{tomcat.url}/his/no-such-page")[0] == 404
    _, body = probe(exporter, tomcat.url, "tomcat")
    assert one(body, "hospmon_tomcat_jdbc_connections_active", pool="jdbc/his") == 2
    assert one(body, "hospmon_tomcat_jdbc_connections_active", pool="jdbc/lis") == 1
    assert one(body, "hospmon_tomcat_request_errors_total") == before + 3


def test_exhausted_pool_fires_for_that_pool_only(
    exporter: str, tomcat: Tomcat, inventory_dir: Path, tmp_path: Path, held: object
) -> None:
    tomcat.get("/his/hold.jsp?pool=his&n=6")  # every connection of the HIS pool, none of the LIS one
    _, body = probe(exporter, tomcat.url, "tomcat")
    assert one(body, "hospmon_tomcat_jdbc_connections_active", pool="jdbc/his") == 6
    labels = {**scrape_labels(inventory_dir, "his-tomcat-1"), "job": "middleware", "instance": tomcat.url}
    series = captured_series(body, POOL_SERIES, labels, "{v}x10")
    expected = expected_alert(
        "middleware.yml",
        "TomcatJdbcPoolExhausted",
        {**labels, "module": "tomcat", "context": "/his", "pool": "jdbc/his"},
    )
    assert expected["exp_labels"]["severity"] == "critical" and expected["exp_labels"]["service"] == "his"
    run_rule_test(tmp_path, "middleware.yml", series, [
        {"eval_time": "1m", "alertname": "TomcatJdbcPoolExhausted", "exp_alerts": []},
        {"eval_time": "3m", "alertname": "TomcatJdbcPoolExhausted", "exp_alerts": [expected]},
    ])  # fmt: skip


def test_request_threads_nearly_all_busy(
    exporter: str, tomcat: Tomcat, inventory_dir: Path, tmp_path: Path
) -> None:
    # Ten registration requests stuck behind a lock, of twelve threads; the probe's own request makes eleven.
    stuck = [threading.Thread(target=http_get, args=(f"{tomcat.url}/his/busy.jsp", 90)) for _ in range(10)]
    for thread in stuck:
        thread.start()

    def eleven_busy() -> str | None:
        body = probe(exporter, tomcat.url, "tomcat")[1]
        return body if one(body, "hospmon_tomcat_threads_busy") >= 11 else None

    try:
        body = wait_for(eleven_busy, what="eleven busy request threads")
    finally:
        tomcat.get("/his/unblock.jsp")
        for thread in stuck:
            thread.join(60)
    labels = {**scrape_labels(inventory_dir, "his-tomcat-1"), "job": "middleware", "instance": tomcat.url}
    series = captured_series(body, ["hospmon_tomcat_threads_busy", "hospmon_tomcat_threads_max"], labels,
                             "{v}x10")  # fmt: skip
    connector = dict(next(iter(samples(body, "hospmon_tomcat_threads_max"))))["connector"]
    expected = expected_alert(
        "middleware.yml",
        "TomcatRequestThreadsExhausted",
        {**labels, "module": "tomcat", "connector": connector},
    )
    run_rule_test(tmp_path, "middleware.yml", series, [
        {"eval_time": "4m", "alertname": "TomcatRequestThreadsExhausted", "exp_alerts": []},
        {"eval_time": "6m", "alertname": "TomcatRequestThreadsExhausted", "exp_alerts": [expected]},
    ])  # fmt: skip


def test_wrong_password_is_an_auth_failure(tmp_path: Path, tomcat: Tomcat, inventory_dir: Path) -> None:
    from exporters.core.server import ExporterApp, RunningServer
    from exporters.middleware.main import MiddlewareExporter

    (tmp_path / "wrong").write_text("not-the-password\n")
    config = tmp_path / "middleware.yml"
    config.write_text(
        f"inventory: {inventory_dir}\n"
        f"auths: {{jmx: {{basic: {{username: {tomcat.user}, password_file: {tmp_path / 'wrong'}}}}}}}\n"
        "modules: {tomcat: {kind: tomcat, http: {auth: jmx}}}\n"
    )
    with RunningServer(ExporterApp(MiddlewareExporter(), config), "127.0.0.1", 0) as server:
        status, body = probe(server.url, tomcat.url, "tomcat")
        assert status == 200
        assert one(body, "hospmon_probe_success") == 0
        assert one(body, "hospmon_probe_failure", reason="auth") == 1
        # A server nobody listed in the inventory is refused, with its credentials never sent.
        status, text = probe(server.url, "http://127.0.0.2:8080", "tomcat")
        assert status == 400 and "not in this exporter's targets" in text

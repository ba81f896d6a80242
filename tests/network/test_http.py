"""The exporter served over HTTP: several modules per probe, one failing module keeps the others, 400s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.servers.snmpd import Agent
from exporters.core.server import ExporterApp, RunningServer
from exporters.network.exporter import NetworkExporter
from tests.network.conftest import write_config
from tests.servers import http_get


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Serve the network exporter on a free loopback port."""
    config = write_config(tmp_path_factory.mktemp("http-config"))
    with RunningServer(ExporterApp(NetworkExporter(), config), "127.0.0.1", 0) as running:
        yield running


def test_probe_of_two_modules_with_one_failing(server: RunningServer, switch_agent: Agent) -> None:
    status, body = http_get(f"{server.url}/probe?target={switch_agent.target}&module=system,if_mib,ups")
    text = body.decode()
    assert status == 200
    assert 'hospmon_probe_success{module="system"} 1.0' in text
    assert 'hospmon_probe_success{module="if_mib"} 1.0' in text
    assert 'hospmon_probe_success{module="ups"} 0.0' in text
    assert 'hospmon_probe_failure{module="ups",reason="bad_response"} 1.0' in text
    assert 'hospmon_snmp_if_oper_status{ifAlias="",ifDescr="port1a",' in text
    assert text.count("# TYPE hospmon_snmp_if_in_bytes_total counter") == 1


def test_v3_probe_over_http(server: RunningServer, agent: Agent) -> None:
    status, body = http_get(f"{server.url}/probe?target={agent.target}&module=system&auth=hm_sha256_aes")
    assert status == 200
    assert 'sysName="hm-lab-agent"' in body.decode()


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("target=127.0.0.1&module=nope", b"unknown module nope"),
        ("target=127.0.0.1&auth=nope", b"unknown auth"),
    ],
)
def test_bad_requests_get_400(server: RunningServer, query: str, reason: bytes) -> None:
    status, body = http_get(f"{server.url}/probe?{query}")
    assert status == 400
    assert reason in body


def test_config_path_is_not_leaked(server: RunningServer) -> None:
    status, body = http_get(f"{server.url}/")
    assert status == 200
    assert not [s for s in ("not-public", "auth-pass-1", "priv-pass-1") if s.encode() in body]

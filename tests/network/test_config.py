"""Config loading: faults name file, entry and key; user modules; secrets from env variables or files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from demo.servers.snmpd import Agent
from exporters.network.config import Index
from exporters.network.exporter import NetworkExporter, parse_target
from exporters.network.render import CompiledModule, index_labels, label_value
from hospmon.config import ConfigError
from tests.conftest import REPO
from tests.network.helpers import cli_values, probe, value


def test_default_config_ships_the_lab_auth_and_all_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOSPMON_SNMP_COMMUNITY", raising=False)
    with pytest.raises(ConfigError, match="HOSPMON_SNMP_COMMUNITY is not set"):
        NetworkExporter().load_config(None)  # no community in the shipped file: it comes from outside
    monkeypatch.setenv("HOSPMON_SNMP_COMMUNITY", "public")
    runtime = NetworkExporter().load_config(None)
    assert set(runtime.credentials) == {"public_v2"}
    assert runtime.credentials["public_v2"].community == b"public"
    assert set(runtime.modules) == {
        "system",
        "if_mib",
        "host_resources",
        "ucd",
        "ups",
        "entity_sensor",
        "entity_revisions",
        "huawei",
        "lldp",
        "cdp",
        "h3c",
        "apc_ups",
        "eaton_ups",
        "printer",
        "fortigate",
        "hillstone",
        "sangfor",
        "brocade_fc",
        "netapp",
    }


def test_module_reading_an_oid_it_never_fetches_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HM_NO_SUCH_VAR", raising=False)
    path = tmp_path / "network.yml"
    path.write_text(
        """
auths:
  core: {version: 3, username: noc, security_level: authPriv, password_env: HM_NO_SUCH_VAR,
         priv_password_file: /nonexistent/secret}
  lab: {version: 2}
modules:
  bad:
    walk: [1.3.6.1.2.1.2]
    metrics:
      - {name: x, oid: 1.3.6.1.2.1.25.1.1, type: gauge, help: not fetched}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        NetworkExporter().load_config(path)
    text = str(info.value)
    assert "network.yml: modules: bad:" in text and "neither walked nor fetched" in text


def test_secret_faults_name_the_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HM_NO_SUCH_VAR", raising=False)
    path = tmp_path / "network.yml"
    path.write_text(
        "auths:\n"
        "  core: {version: 3, username: noc, password_env: HM_NO_SUCH_VAR,\n"
        "         priv_password_env: HM_NO_SUCH_VAR}\n"
        "  lab: {version: 2}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        NetworkExporter().load_config(path)
    faults = [str(f) for f in info.value.faults]
    assert any("auths.core.password" in f and "HM_NO_SUCH_VAR is not set" in f for f in faults)
    assert any("auths.lab" in f and "community_env or community_file" in f for f in faults)


def test_user_module_with_numeric_oids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HM_TEST_COMMUNITY", "s3cret")
    path = tmp_path / "network.yml"
    path.write_text(
        """
auths:
  ward: {version: 2, community_env: HM_TEST_COMMUNITY}
modules:
  tcp:
    get: [1.3.6.1.2.1.6.9.0]
    metrics:
      - {name: tcp_established_connections, oid: 1.3.6.1.2.1.6.9, type: gauge, help: tcpCurrEstab.}
""",
        encoding="utf-8",
    )
    runtime = NetworkExporter().load_config(path)
    assert runtime.credentials["ward"].community == b"s3cret"
    fams = runtime.modules["tcp"].render([((1, 3, 6, 1, 2, 1, 6, 9, 0), 0x42, 12)])
    assert [(s.name, s.value) for f in fams for s in f.samples] == [
        ("hospmon_snmp_tcp_established_connections", 12)
    ]


def test_label_values_decode_strings_addresses_and_indexes() -> None:
    assert label_value(0x04, "核心交换机".encode("gb18030"), "DisplayString", {}) == "核心交换机"
    assert label_value(0x04, b"\x00\x1b\x21\xaa\xbb\x0c", "PhysAddress", {}) == "00:1b:21:aa:bb:0c"
    assert label_value(0x04, bytes([10, 1, 2, 3]), "InetAddress", {}) == "10.1.2.3"
    assert label_value(0x04, bytes(15) + b"\x01", "InetAddress", {}) == "::1"
    assert label_value(0x40, bytes([192, 168, 0, 1]), "DisplayString", {}) == "192.168.0.1"
    assert label_value(0x02, 6, "Integer", {6: "ethernetCsmacd"}) == "ethernetCsmacd"
    specs = [Index(label="a", type="string"), Index(label="b", type="ipv4"), Index(label="c")]
    assert index_labels((3, 97, 98, 99, 10, 0, 0, 1, 7), specs) == ["abc", "10.0.0.1", "7"]
    assert index_labels((3, 97, 98), specs) is None


def test_counter_values_stay_exact_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSPMON_SNMP_COMMUNITY", "public")
    runtime = NetworkExporter().load_config(None)
    module: CompiledModule = runtime.modules["if_mib"]
    oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 5)
    fams = module.render([(oid, 0x46, 2**63 + 1)])
    sample = next(s for f in fams for s in f.samples if s.name == "hospmon_snmp_if_in_bytes_total")
    assert sample.value == 2**63 + 1


def test_the_documented_example_module_reads_a_real_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agent: Agent
) -> None:
    doc = (REPO / "docs" / "snmp.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "disk_io:" in b)
    monkeypatch.setenv("HM_TEST_COMMUNITY", "public")
    config = yaml.safe_load(block) | {
        "auths": {"lab": {"version": 2, "community_env": "HM_TEST_COMMUNITY"}},
        "targets": [{"target": agent.target, "auth": "lab"}],
    }
    path = tmp_path / "network.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    exporter = NetworkExporter()
    runtime = exporter.load_config(path)
    before = _sectors_read()
    fams = probe(exporter, runtime, agent.target, "disk_io", auth="lab")
    after = _sectors_read()
    devices = {
        s.labels["diskIODevice"] for f in fams for s in f.samples if s.name.endswith("read_bytes_total")
    }
    assert devices == set(cli_values(agent, "1.3.6.1.4.1.2021.13.15.1.1.2").values())
    busiest = max(devices & after.keys(), key=lambda d: after[d])
    read = value(fams, "hospmon_snmp_disk_read_bytes_total", diskIODevice=busiest)
    # diskIONReadX = sectors read x 512; snmpd caches it for a few seconds, so allow for reads since then
    assert before[busiest] * 512 - 256 * 2**20 <= read <= after[busiest] * 512
    assert value(fams, "hospmon_snmp_tcp_established_connections") >= 0


def _sectors_read() -> dict[str, int]:
    return {
        f[2]: int(f[5]) for f in (line.split() for line in Path("/proc/diskstats").read_text().splitlines())
    }


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        (
            "[{name: a, oid: 1.3.6.1.2.1.2.2.1.8, type: enum, help: h, enum_values: {1: up},"
            " indexes: [{label: state}]}]",
            "a label name is used twice",
        ),
        (
            "[{name: b, oid: 1.3.6.1.2.1.2.2.1.5, type: gauge, help: h, labels: {x: '1'}},"
            " {name: b, oid: 1.3.6.1.2.1.2.2.1.4, type: gauge, help: h}]",
            "metrics named b differ",
        ),
        ("[{name: c_total, oid: 1.3.6.1.2.1.2.2.1.10, type: counter, help: h}]", "get _total added"),
    ],
)
def test_module_mistakes_are_refused(tmp_path: Path, metrics: str, message: str) -> None:
    path = tmp_path / "network.yml"
    path.write_text(
        f"auths: {{lab: {{version: 2, community_env: HOME}}}}\n"
        f"modules:\n  m:\n    walk: [1.3.6.1.2.1.2]\n    metrics: {metrics}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        NetworkExporter().load_config(path)


def test_the_documented_configuration_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (REPO / "docs" / "snmp.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "core_v3:" in b)
    secret = tmp_path / "snmp-auth"
    secret.write_text("auth-secret\n", encoding="utf-8")
    monkeypatch.setenv("HOSPMON_SNMP_PRIV", "priv-secret")
    monkeypatch.setenv("HOSPMON_WARD_COMMUNITY", "ward-secret")
    path = tmp_path / "network.yml"
    path.write_text(block.replace("/etc/hospmon/secrets/snmp-auth", str(secret)), encoding="utf-8")
    runtime = NetworkExporter().load_config(path)
    core = runtime.credentials["core_v3"]
    assert (core.password, core.priv_password, core.auth.effective_backend()) == (
        "auth-secret",
        "priv-secret",
        "fast",
    )
    assert runtime.credentials["legacy_ward_switches"].community == b"ward-secret"
    assert runtime.config.limits.per_target == 2


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("10.1.0.1", ("10.1.0.1", 161)),
        ("core-sw-1.hospital.example:1161", ("core-sw-1.hospital.example", 1161)),
        ("[2001:db8::1]:1161", ("2001:db8::1", 1161)),
        ("[2001:db8::1]", ("2001:db8::1", 161)),
        ("2001:db8::1", ("2001:db8::1", 161)),
    ],
)
def test_targets_are_parsed(target: str, expected: tuple[str, int]) -> None:
    assert parse_target(target) == expected

"""The reach exporter with one module per behaviour under test."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.reach.main import Loaded, ReachExporter

PJL = r'"\x1b%-12345X@PJL INFO STATUS\r\n\x1b%-12345X"'
CONFIG = f"""
allow_adhoc_targets: true  # the peers are on loopback ports the tests pick
adhoc_cidrs: [127.0.0.0/8]
modules:
  ping: {{kind: icmp}}
  ping_datagram: {{kind: icmp, icmp: {{socket: datagram}}}}
  ping_raw: {{kind: icmp, icmp: {{socket: raw}}}}
  port: {{kind: tcp}}
  jetdirect:
    kind: tcp
    tcp:
      steps: [{{send: {PJL}}}, {{expect: "CODE=10001"}}]
  his_dns:
    kind: dns
    dns: {{query_name: his.hospital.internal, min_answers: 2, answer_regex: ['^127\\.0\\.0\\.2[12]$']}}
  his_dns_one: {{kind: dns, dns: {{query_name: his.hospital.internal}}}}
  missing_dns: {{kind: dns, dns: {{query_name: nowhere.hospital.internal}}}}
  outside_dns: {{kind: dns, dns: {{query_name: www.example.org}}}}
  clamav: {{kind: clamd, clamd: {{timezone: Asia/Shanghai}}}}
  clamav_utc: {{kind: clamd}}
"""


@pytest.fixture(scope="session")
def reach() -> ReachExporter:
    """Return the exporter under test."""
    return ReachExporter()


@pytest.fixture(scope="session")
def loaded(reach: ReachExporter, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """Load the test config."""
    path: Path = tmp_path_factory.mktemp("reach") / "reach.yml"
    path.write_text(CONFIG)
    return reach.load_config(path)

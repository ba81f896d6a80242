"""The network exporter's entity_revisions module on agents of the closet, and the firmware upgrade it shows.

Core switch 1 is upgraded overnight from V200R019C10 to V200R019C10SPC800: the chassis row of ENTITY-MIB
says so, and VersionChanged fires in promtool from what the exporter read before and after.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from demo.servers.snmpd import snmpd
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.helpers import probe, value
from tests.network.lab import BOXES, overrides
from tests.promtool import captured_series, expected_alert, run_rule_test

NAME = "hospmon_snmp_entity_revision_info"


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def _exposition(families: list[Metric]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry).decode()


def test_chassis_revision_and_the_upgrade_it_shows(
    exporter: NetworkExporter, runtime: Runtime, tmp_path: Path
) -> None:
    core = BOXES[0]
    upgraded = dataclasses.replace(core, firmware="V200R019C10SPC800")
    answers = []
    for box in (core, upgraded):
        with snmpd(extra=overrides(box, "10.77.0")) as agent:
            answers.append(probe(exporter, runtime, agent.target, "entity_revisions"))
    before, after = answers
    chassis = {"entPhysicalIndex": "1", "entPhysicalClass": "chassis", "entPhysicalHardwareRev": "VER.B"}
    assert value(before, NAME, **chassis, entPhysicalSoftwareRev="V200R019C10") == 1
    assert value(before, NAME, entPhysicalClass="powerSupply", entPhysicalName="PSU1") == 1
    scrape = {"job": "network", "ci": "core-sw-1", "service": "network", "module": "entity_revisions"}
    series = captured_series(_exposition(before), [NAME], scrape, "1x1500 stale")
    series += captured_series(_exposition(after), [NAME], scrape, "_x1501 1x60")
    labels = {"ci": "core-sw-1", "service": "network", "component": "chassis_software",
              "version": "V200R019C10SPC800", "previous_version": "V200R019C10"}  # fmt: skip
    run_rule_test(tmp_path, "releases.yml", series, [
        {"eval_time": "1500m", "alertname": "VersionChanged", "exp_alerts": []},
        {"eval_time": "1510m", "alertname": "VersionChanged",
         "exp_alerts": [expected_alert("releases.yml", "VersionChanged", labels)]},
    ])  # fmt: skip

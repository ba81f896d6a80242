"""The network exporter's lldp and cdp modules: neighbours as info series, for the topology panels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo.servers.snmpd import Agent, snmpd
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.helpers import probe, value
from tests.network.lab import BOXES, overrides


@pytest.fixture(scope="module")
def aggregation_switch() -> Iterator[Agent]:
    """Run agg-sw-1 of the closet on loopback: three LLDP neighbours."""
    with snmpd(extra=overrides(BOXES[1], "10.77.0")) as agent:
        yield agent


def test_lldp_module_lists_each_neighbour(
    exporter: NetworkExporter, runtime: Runtime, aggregation_switch: Agent
) -> None:
    families = probe(exporter, runtime, aggregation_switch.target, "lldp")
    name = "hospmon_snmp_lldp_neighbor_info"
    assert value(families, name, lldpRemSysName="fw-1", lldpRemLocalPortNum="3") == 1
    assert value(families, name, lldpRemSysName="core-sw-1", lldpRemChassisId="02:00:00:00:00:01") == 1
    assert value(families, name, lldpRemSysName="acc-sw-1", lldpRemPortId="GE1/0/1") == 1
    assert sum(1 for f in families for s in f.samples if s.name == name) == 3


def test_cdp_module_reads_a_real_catalyst(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> None:
    families = probe(exporter, runtime, recorded, "cdp", auth="cisco_16_switch")
    labels = {"cdpCacheDeviceId": "C2960X.uac.local", "ifIndex": "11048", "cdpCacheAddress": "10.204.88.10"}
    assert (
        value(families, "hospmon_snmp_cdp_neighbor_info", **labels, cdpCachePlatform="cisco WS-C2960X-24PD-L")
        == 1
    )

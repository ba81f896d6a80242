"""The fast v1/v2c path and pysnmp fetch identical bindings for every shipped module."""

from __future__ import annotations

import pytest

from exporters.core.probe import Deadline, ProbeRequest
from exporters.network.ber import COUNTER32, COUNTER64, TIMETICKS, VarBind
from exporters.network.config import shipped_modules
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.agent import Agent

CHANGING = {TIMETICKS, COUNTER32, COUNTER64}  # uptime and traffic counters move between two fetches


def _fetch(exporter: NetworkExporter, runtime: Runtime, target: str, module: str, auth: str) -> list[VarBind]:
    request = ProbeRequest(target, (module,), {"auth": auth})
    return exporter.fetch(runtime, request, runtime.modules[module], Deadline.after(20))


def _stable(varbinds: list[VarBind]) -> list[VarBind]:
    return [(oid, tag, None if tag in CHANGING else value) for oid, tag, value in varbinds]


@pytest.mark.parametrize("module", sorted(shipped_modules()))
def test_fast_path_equals_pysnmp(
    exporter: NetworkExporter, runtime: Runtime, agent: Agent, module: str
) -> None:
    fast = _fetch(exporter, runtime, agent.target, module, "public_v2")
    slow = _fetch(exporter, runtime, agent.target, module, "public_v2_pysnmp")
    assert fast
    if module == "host_resources":  # processes come and go between the two fetches
        fast = [vb for vb in fast if vb[0][:9] != (1, 3, 6, 1, 2, 1, 25, 1, 6)]
        slow = [vb for vb in slow if vb[0][:9] != (1, 3, 6, 1, 2, 1, 25, 1, 6)]
    if module == "ucd":  # load averages and free memory move too: compare names and types
        assert [vb[:2] for vb in fast] == [vb[:2] for vb in slow]
    else:
        assert _stable(fast) == _stable(slow)


def test_fast_path_equals_pysnmp_on_many_interfaces(
    exporter: NetworkExporter, runtime: Runtime, switch_agent: Agent
) -> None:
    uplink = 2  # ifIndex of the uplink carrying the SNMP traffic
    fast = _fetch(exporter, runtime, switch_agent.target, "if_mib", "public_v2")
    slow = _fetch(exporter, runtime, switch_agent.target, "if_mib", "public_v2_pysnmp")
    assert len(fast) > 8000
    assert [vb for vb in fast if vb[0][-1] != uplink] == [vb for vb in slow if vb[0][-1] != uplink]

"""A probe's answer is byte for byte what prometheus_client writes, only sooner."""

from __future__ import annotations

import math
from types import SimpleNamespace

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    UnknownMetricFamily,
)

from exporters.core import exposition


def library(families: list[Metric]) -> bytes:
    """What prometheus_client writes for these families (it only asks its argument to collect)."""
    return generate_latest(SimpleNamespace(collect=lambda: families))  # type: ignore[arg-type]


def switch_answer() -> list[Metric]:
    """Interfaces as a Huawei access switch in a ward names them, with odd aliases and counter values."""
    names = ["ifIndex", "ifName", "ifAlias", "ifDescr"]
    octets = CounterMetricFamily("hospmon_snmp_if_in_bytes", "Octets received (ifHCInOctets).", labels=names)
    status = GaugeMetricFamily(
        "hospmon_snmp_if_oper_status", 'State "up"\\down\nnext', labels=["ifIndex", "state", "ifAlias"]
    )
    aliases = ["住院楼 3F 护士站", 'to "core"', "back\\slash", "line\nbreak", ""]
    for n, alias in enumerate(aliases, start=1):
        octets.add_metric(
            [str(n), f"GigabitEthernet0/0/{n}", alias, f"GE0/0/{n}"], [0, 1.5, 2**53, 1e21, 7][n - 1]
        )
        for state in ("up", "down"):
            status.add_metric([str(n), state, alias], 1.0 if state == "up" else 0.0)
    odd = GaugeMetricFamily("hospmon_snmp_sensor_celsius", "Sensor.", labels=["zeta", "alpha"])
    odd.add_metric(["z", "a"], math.nan)
    odd.add_metric(["z2", "a2"], math.inf)
    odd.add_metric(["z3", "a3"], -math.inf)
    odd.add_metric(["z4", "a4"], -0.000001234)
    plain = GaugeMetricFamily("hospmon_snmp_if_number", "Number of interfaces.", value=52)
    untyped = UnknownMetricFamily("hospmon_snmp_raw", "Raw.", value=3)
    return [octets, status, odd, plain, untyped]


def test_a_switch_answer_is_written_exactly_as_the_library_writes_it() -> None:
    """Chinese aliases, quotes, backslashes, line breaks, NaN, infinities: the same bytes, labels sorted."""
    families = switch_answer()
    assert exposition.render(families) == library(families)


def test_what_the_fast_writer_does_not_cover_goes_to_the_library() -> None:
    """An info family, a counter with its created time or a sample with a timestamp: left to the library."""
    info = InfoMetricFamily("hospmon_build", "Build.", value={"version": "1"})
    created = CounterMetricFamily("hospmon_x", "X.", value=1, created=1700000000.0)
    stamped = GaugeMetricFamily("hospmon_y", "Y.", labels=["a"])
    stamped.add_metric(["b"], 1.0, timestamp=1700000000.0)
    for family in (info, created, stamped):
        assert exposition.render([family]) is None
    assert exposition.render([*switch_answer(), info]) is None

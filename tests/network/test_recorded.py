"""Recordings of real devices served by snmpsimd: values must equal the recording's."""

from __future__ import annotations

from exporters.core.probe import Deadline, ProbeRequest
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.helpers import probe, value
from tests.network.recorded import column, read_snmprec

P = "hospmon_snmp_"
IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"


def test_cisco_switch_interfaces_equal_the_recording(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    rec = read_snmprec("cisco_16_switch")
    fams = probe(exporter, runtime, recorded, "if_mib", auth="cisco_16_switch")
    names = column(rec, IFX + ".1")
    assert len(names) > 16
    checked = 0
    for index, name in names.items():
        labels = {"ifIndex": index, "ifName": name, "ifDescr": column(rec, IF + ".2")[index]}
        for metric, oid in (("if_in_bytes_total", IFX + ".6"), ("if_out_bytes_total", IFX + ".10")):
            recorded_value = column(rec, oid).get(index)
            if recorded_value is not None:
                assert value(fams, P + metric, **labels) == int(recorded_value)
                checked += 1
        oper = {"1": "up", "2": "down"}.get(column(rec, IF + ".8")[index])
        if oper:
            assert value(fams, P + "if_oper_status", state=oper, **labels) == 1
    assert checked > 30


def test_cisco_switch_identity(exporter: NetworkExporter, runtime: Runtime, recorded: str) -> None:
    rec = read_snmprec("cisco_16_switch")
    fams = probe(exporter, runtime, recorded, "system", auth="cisco_16_switch")
    info = next(s for f in fams for s in f.samples if s.name == P + "system_info")
    assert info.labels["sysName"] == "Profiler3750"
    assert info.labels["sysLocation"] == "Bangalore"
    assert info.labels["sysObjectID"] == "1.3.6.1.4.1.9.1.516"
    assert info.labels["sysDescr"] == rec["1.3.6.1.2.1.1.1.0"][1]
    assert value(fams, P + "system_uptime_seconds") * 100 >= int(rec["1.3.6.1.2.1.1.3.0"][1])


def test_linux_host_storage_equals_the_recording(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    rec = read_snmprec("linux-full-walk")
    fams = probe(exporter, runtime, recorded, "host_resources", auth="linux_recording")
    units = column(rec, "1.3.6.1.2.1.25.2.3.1.4")
    for index, size in column(rec, "1.3.6.1.2.1.25.2.3.1.5").items():
        expected = int(size) * int(units[index].split()[0])
        assert value(fams, P + "host_storage_size_bytes", hrStorageIndex=index) == expected


def test_fast_path_equals_pysnmp_on_the_recording(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    module = runtime.modules["if_mib"]
    fast = exporter.fetch(
        runtime, ProbeRequest(recorded, ("if_mib",), {"auth": "cisco_16_switch"}), module, Deadline.after(20)
    )
    slow = exporter.fetch(
        runtime,
        ProbeRequest(recorded, ("if_mib",), {"auth": "cisco_16_switch_pysnmp"}),
        module,
        Deadline.after(20),
    )
    assert len(fast) > 500
    assert fast == slow

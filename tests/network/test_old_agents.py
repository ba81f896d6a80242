"""Old agents: an SNMPv1 session (no Counter64 on the wire) and a Windows XP host without ifXTable still
give traffic, packets and speed, from the 32-bit columns, row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.servers.snmpd import Agent
from exporters.core.probe import ProbeFailed
from exporters.network.exporter import NetworkExporter, Runtime
from tests.network.conftest import write_config
from tests.network.helpers import cli_values, probe, samples, value
from tests.network.recorded import column, read_snmprec

P = "hospmon_snmp_"
IF = "1.3.6.1.2.1.2.2.1"


def test_snmpv1_session_exports_32_bit_traffic_and_speed(
    exporter: NetworkExporter, runtime: Runtime, agent: Agent
) -> None:
    descr = cli_values(agent, IF + ".2")
    lo = next(index for index, name in descr.items() if name == "lo")
    before = int(cli_values(agent, IF + ".10")[lo])
    fams = probe(exporter, runtime, agent.target, "if_mib", auth="public_v1")
    after = int(cli_values(agent, IF + ".10")[lo])
    # Our own SNMP packets cross lo, so its counter moves: the probe's value lies between two readings.
    assert before <= value(fams, P + "if_in_bytes_total", ifIndex=lo) <= after
    for metric in ("if_speed_bytes_per_second", "if_out_bytes_total", "if_in_unicast_packets_total"):
        rows = {s.labels["ifIndex"] for f in fams for s in f.samples if s.name == P + metric}
        assert rows == set(descr), metric


def test_recording_without_ifxtable_gives_traffic_speed_and_names(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    rec = read_snmprec("winxp-full-walk")
    assert not column(rec, "1.3.6.1.2.1.31.1.1.1.1")  # the XP agent has no ifXTable at all
    fams = probe(exporter, runtime, recorded, "if_mib", auth="winxp_recording")
    found = samples(fams)
    descrs = column(rec, IF + ".2")
    assert len(descrs) == 3
    for index, descr in descrs.items():
        name = descr.rstrip("\x00")
        labels = {"ifIndex": index, "ifName": name, "ifDescr": name}
        assert value(fams, P + "if_in_bytes_total", **labels) == int(column(rec, IF + ".10")[index])
        assert value(fams, P + "if_out_bytes_total", **labels) == int(column(rec, IF + ".16")[index])
        assert value(fams, P + "if_in_unicast_packets_total", **labels) == int(column(rec, IF + ".11")[index])
        speed = int(column(rec, IF + ".5")[index]) / 8  # ifSpeed is in bit/s
        assert value(fams, P + "if_speed_bytes_per_second", **labels) == speed
    assert not [k for k in found if k[0] == P + "if_in_multicast_packets_total"]  # nothing to fall back to


def test_agent_answering_only_sysobjectid_still_identifies_the_device(
    exporter: NetworkExporter, runtime: Runtime, recorded: str
) -> None:
    fams = probe(exporter, runtime, recorded, "system", auth="sysobjectid-only")
    info = next(s for f in fams for s in f.samples if s.name == P + "system_info")
    assert info.labels["sysObjectID"] == "1.3.6.1.4.1.318.1.3.27"
    assert info.labels["sysDescr"] == info.labels["sysName"] == ""


def test_module_whose_series_the_agent_cannot_make_fails(
    exporter: NetworkExporter, recorded: str, tmp_path: Path
) -> None:
    # The agent answers one of the module's OIDs, but not the column its only series is made of.
    module = {
        "get": ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"],
        "metrics": [
            {
                "name": "descr_info",
                "oid": "1.3.6.1.2.1.1.1",
                "type": "info",
                "help": "sysDescr",
                "value_label": "sysDescr",
                "lookups": [{"label": "sysObjectID", "oid": "1.3.6.1.2.1.1.2", "type": "ObjectIdentifier"}],
            }
        ],
    }
    runtime = exporter.load_config(write_config(tmp_path, modules={"descr": module}))
    with pytest.raises(ProbeFailed) as failed:
        probe(exporter, runtime, recorded, "descr", auth="sysobjectid-only")
    assert failed.value.reason == "bad_response"

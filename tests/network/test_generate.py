"""`hospmon snmp generate`: a real vendor MIB (Net-SNMP's UCD-SNMP-MIB, as Debian installs it) and a short
object list become a module that reads a recorded Linux host exactly, with no module written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exporters.network.exporter import NetworkExporter
from hospmon.cli import main
from tests.network.conftest import write_config
from tests.network.helpers import probe, samples
from tests.network.recorded import read_snmprec

NET_SNMP_MIBS = Path("/usr/share/snmp/mibs")  # Debian's libsnmp-base, installed with snmpd
GENERATOR = """
modules:
  ucd_generated:
    mibs: [UCD-SNMP-MIB]
    prefix: ucdgen
    walk: [memory, laTable, dskTable, memSwapError]
    lookups:
      - {index: laIndex, lookup: laNames}
      - {index: dskIndex, lookup: dskPath}
    overrides:
      laLoad: {type: gauge}
      memMinimumSwap: {name: ucdgen_swap_minimum_bytes, scale: 1024}
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("generate")
    (work / "generator.yml").write_text(GENERATOR)
    args = ["snmp", "generate", "--mibs", str(NET_SNMP_MIBS), "--config", str(work / "generator.yml")]
    assert main([*args, "--out", str(work / "out")]) == 0
    module: dict[str, object] = yaml.safe_load((work / "out" / "ucd_generated.yml").read_text())
    return module


def test_generated_module_reads_the_recording_exactly(
    generated: dict[str, object], recorded: str, tmp_path: Path
) -> None:
    exporter = NetworkExporter()
    runtime = exporter.load_config(write_config(tmp_path, modules={"ucd_generated": generated}))
    found = samples(probe(exporter, runtime, recorded, "ucd_generated", auth="linux_recording"))
    rec = read_snmprec("linux-full-walk")
    metrics = {m["name"]: m for m in generated["metrics"]}  # type: ignore[attr-defined]
    checked = 0
    for name, metric in metrics.items():
        if metric["type"] not in ("gauge", "counter"):
            continue
        prefix = metric["oid"] + "."
        for oid, (_, raw) in rec.items():
            if not oid.startswith(prefix):
                continue
            index = oid[len(prefix) :]
            labels = {} if index == "0" else {metric["indexes"][0]["label"]: index}
            if metric["oid"].startswith("1.3.6.1.4.1.2021.10."):
                labels["laNames"] = rec[f"1.3.6.1.4.1.2021.10.1.2.{index}"][1]
            if metric["oid"].startswith("1.3.6.1.4.1.2021.9."):
                labels["dskPath"] = rec[f"1.3.6.1.4.1.2021.9.1.2.{index}"][1]
            got = [
                v for (n, lbls), v in found.items() if n == "hospmon_snmp_" + name and dict(lbls) == labels
            ]
            assert got == [float(raw) * metric.get("scale", 1)], (name, labels, raw)
            checked += 1
    assert checked >= 15  # every numeric memory scalar and load-average cell the host recorded
    # Help and types come from the MIB: units, enumerations (UCDErrorFlag) and the override's name.
    assert metrics["ucdgen_mem_total_real"]["help"].endswith("(memTotalReal, kB).")
    assert metrics["ucdgen_mem_swap_error"]["enum_values"] == {0: "noError", 1: "error"}
    assert found[("hospmon_snmp_ucdgen_mem_swap_error", frozenset({("state", "noError")}))] == 1
    assert found[("hospmon_snmp_ucdgen_swap_minimum_bytes", frozenset())] == 16000 * 1024
    assert metrics["ucdgen_la_load"]["indexes"] == [{"label": "laIndex", "type": "integer"}]


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        ("modules: {m: {mibs: [NO-SUCH-MIB], walk: [x]}}", "NO-SUCH-MIB: no such MIB file"),
        (
            "modules: {m: {mibs: [UCD-SNMP-MIB], walk: [noSuchObject]}}",
            "noSuchObject is in none of the compiled MIBs",
        ),
        ("modules: {m: {mibs: [UCD-SNMP-MIB], wlak: [laTable]}}", "wlak: unknown key"),
    ],
)
def test_generator_errors_name_the_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generator: str, message: str
) -> None:
    (tmp_path / "g.yml").write_text(generator)
    args = ["snmp", "generate", "--mibs", str(NET_SNMP_MIBS), "--config", str(tmp_path / "g.yml")]
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    assert message in capsys.readouterr().err

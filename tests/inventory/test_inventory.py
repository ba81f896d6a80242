"""The inventory: the demo hospital loads, faults are all reported with file, entry and key."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hospmon.config import ConfigError
from hospmon.inventory import load_inventory
from hospmon.inventory.impact import Reach, is_shared, reaches
from hospmon.inventory.targets import write_targets

MINIMAL = """
hospital: {id: h, name: {en: H}}
departments:
  - {id: icu, name: {en: ICU}, criticality: critical}
  - {id: it, name: {en: IT}, criticality: normal}
teams:
  - {id: net, name: {en: Net}, members: [{id: a, name: {en: A}}]}
services:
  - {id: network, name: {en: Network}, tier: 1, team: net, departments: [icu]}
cis:
  - {id: sw-1, kind: switch, service: network, address: 127.0.0.1:1161,
     monitor: [{exporter: network, modules: [system, if_mib], auth: public_v2}]}
  - {id: sw-2, kind: switch, service: network, depends_on: [sw-1], department: it}
"""


def test_demo_inventory_is_realistic(repo: Path) -> None:
    inv = load_inventory(repo / "demo" / "inventory")
    assert len(inv.departments) >= 10
    assert {"his", "lis", "pacs", "emr"} <= set(inv.services)
    assert len(inv.cis) >= 40
    kinds = {ci.kind.value for ci in inv.cis.values()}
    assert {"switch", "firewall", "server", "storage", "ups", "database", "application"} <= kinds
    assert all(d.name.zh and d.name.en for d in inv.departments.values())
    outpatient = inv.departments["outpatient"]
    assert outpatient.hours is not None and outpatient.criticality == "normal"
    # The HIS web service reaches the core switch through the intranet firewall.
    assert inv.dependency_path("core-sw-1", "his-web") == ["his-web", "fw-intranet-1", "core-sw-1"]
    assert "icu" in inv.departments_affected("core-sw-1")
    assert inv.owner_team("fw-insurance-1").id == "network"
    assert inv.owner_team("ins-fep").id == "apps"


def test_graph_questions(tmp_path: Path) -> None:
    (tmp_path / "inv.yml").write_text(MINIMAL)
    inv = load_inventory(tmp_path / "inv.yml")
    assert inv.dependents("sw-1") == ["sw-2"]
    assert inv.depends_on_transitively("sw-2") == ["sw-1"]
    assert inv.department_of("sw-1") == "icu"  # the service's first department
    assert inv.department_of("sw-2") == "it"


def test_three_faults_in_two_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(MINIMAL)
    (tmp_path / "b.yml").write_text(
        "cis:\n"
        "  - {id: sw-1, kind: switch, service: network}\n"  # duplicate id
        "  - {id: ups-1, kind: toaster, service: network}\n"  # unknown kind
        # an unknown service and a bad date
        "  - {id: fw-1, kind: firewall, service: netwrok, warranty_end: 2026-02-30}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_inventory(tmp_path)
    text = str(caught.value)
    b = tmp_path / "b.yml"
    assert f"{b}: cis[sw-1]: id: duplicate id; first defined in {tmp_path / 'a.yml'}" in text
    assert f"{b}: cis[ups-1]: kind: Input should be 'switch'" in text
    assert f"{b}: cis[fw-1]: warranty_end: Input should be a valid date" in text


def test_references_and_cycles(tmp_path: Path) -> None:
    base = MINIMAL.replace("depends_on: [sw-1]", "depends_on: [sw-3]").replace(
        "departments: [icu]}", "departments: [icu, ward]}"
    )
    text = base + (
        "  - {id: sw-3, kind: switch, service: network, depends_on: [sw-2, ghost], owner: nobody}\n"
        "  - {id: sw-4, kind: switch, service: network, depends_on: [sw-4]}\n"
        "  - {id: sw-5, kind: switch, service: network, monitor: [{exporter: network, modules: [system]}]}\n"
    )
    (tmp_path / "inv.yml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_inventory(tmp_path / "inv.yml")
    messages = [str(f) for f in caught.value.faults]
    f = str(tmp_path / "inv.yml")
    assert (
        f"{f}: services[network]: departments[1]: unknown department 'ward'; "
        "define it under departments or fix it" in messages
    )
    assert f"{f}: cis[sw-3]: depends_on[1]: unknown ci 'ghost'; define it under cis or fix it" in messages
    assert f"{f}: cis[sw-3]: owner: unknown team 'nobody'; define it under teams or fix it" in messages
    assert f"{f}: cis[sw-4]: depends_on[0]: a CI cannot depend on itself" in messages
    assert f"{f}: cis[sw-5]: address: monitored CI needs an address or a target per monitor" in messages
    assert any(
        m.startswith(f"{f}: cis[sw-2]: depends_on: dependency cycle: sw-2 -> sw-3 -> sw-2") for m in messages
    )


def test_check_command_reports_every_fault_and_fails(repo: Path, tmp_path: Path) -> None:
    shutil.copytree(repo / "demo" / "inventory", tmp_path / "inv")
    cis = tmp_path / "inv" / "60-cis-applications.yml"
    text = cis.read_text()
    text = text.replace("id: pacs-web,", "id: pacs-archive,", 1)  # 1. a duplicate id
    text = text.replace(
        "service: pacs, department: radiology,\n     depends_on: [acc-sw-rad-1f], vendor: United",
        "service: pacs, department: radiologie,\n     depends_on: [acc-sw-rad-1f], vendor: United",
    )  # 2. unknown department
    text = text.replace("purchased: 2021-04-01", "purchased: 2021-13-01")  # 3. a bad date
    cis.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "hospmon.cli", "inventory", "check", str(tmp_path / "inv")],
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert result.returncode == 1
    assert "3 fault(s)" in result.stderr
    assert f"{cis}: cis[pacs-archive]: id: duplicate id" in result.stderr
    assert f"{cis}: cis[ct-1]: department: unknown department 'radiologie'" in result.stderr
    assert f"{cis}: cis[mr-1]: purchased: Input should be a valid date" in result.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "hospmon.cli", "inventory", "check", str(repo / "demo" / "inventory")],
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert ok.returncode == 0, ok.stderr
    assert "valid: 15 departments" in ok.stdout
    # What every department of a service depends on is listed, so a floor switch there stands out.
    assert "  network (14 departments): core-sw-1, core-sw-2, fw-intranet-1, fw-internet-1\n" in ok.stdout
    assert "acc-sw-" not in ok.stdout


def test_who_depends_on_a_ci(repo: Path, tmp_path: Path) -> None:
    inv = load_inventory(repo / "demo" / "inventory")
    assert [(r.department, r.via) for r in reaches(inv, "acc-sw-icu-5f")] == [("icu", "own")]
    assert [(r.department, r.via, r.path) for r in reaches(inv, "agg-sw-outpatient")] == [
        ("outpatient", "own", ("agg-sw-outpatient",)),
        ("ed", "ci", ("agg-sw-outpatient", "acc-sw-ed-1f")),
    ]
    core = reaches(inv, "core-sw-1")
    assert len(core) == 15 and core[1] == Reach("ed", ("core-sw-1",), "network", "service")
    assert is_shared(inv, "lis-db") and not is_shared(inv, "ct-1")  # shared: true in the lab; a modality
    # The rule without the flag: no department, or one the service does not serve, means shared.
    (tmp_path / "inv.yml").write_text(MINIMAL)
    small = load_inventory(tmp_path / "inv.yml")
    assert is_shared(small, "sw-1") and is_shared(small, "sw-2")
    (tmp_path / "inv.yml").write_text(
        MINIMAL.replace("services:\n", "services:\n  - {id: idle, name: {en: Idle}, tier: 4, team: net}\n")
        + "  - {id: sw-9, kind: switch, service: network, shared: false}\n"
        + "  - {id: mon-1, kind: server, service: idle, shared: true}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_inventory(tmp_path / "inv.yml")
    f = str(tmp_path / "inv.yml")
    assert {str(x) for x in caught.value.faults} == {
        f"{f}: cis[sw-9]: shared: not shared and in no department: give its department",
        f"{f}: cis[mon-1]: shared: service idle lists no departments to share it with",
    }


def test_targets_per_exporter_and_module(tmp_path: Path) -> None:
    (tmp_path / "inv.yml").write_text(MINIMAL)
    out = tmp_path / "targets"
    out.mkdir()
    (out / "network-retired.json").write_text("[]")  # a module no CI uses any more
    (out / "keep.txt").write_text("not ours")
    written = write_targets(load_inventory(tmp_path / "inv.yml"), out)
    assert sorted(p.name for p in written) == ["network-if_mib.json", "network-system.json"]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "network-if_mib.json", "network-system.json"]
    groups = json.loads((out / "network-if_mib.json").read_text())
    assert groups == [
        {
            "targets": ["127.0.0.1:1161"],
            "labels": {
                "ci": "sw-1",
                "service": "network",
                "department": "icu",
                "tier": "1",
                "module": "if_mib",
                "__param_module": "if_mib",
                "__param_auth": "public_v2",
            },
        }
    ]

"""`python -m demo.simulate`: the simulated systems of every demo part, without exporters, and their
secrets handed to the exporters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from demo.launcher import Part
from demo.simulate import copy_secrets, is_simulated

REPO = Path(__file__).resolve().parents[2]


def test_only_simulated_systems_are_started() -> None:
    def part(name: str) -> Part:
        return Part(name, ["true"], "http://127.0.0.1:1/", "http://127.0.0.1:1/")

    names = [
        "alertmanager",
        "inventory-exporter",
        "postgresql emr-db",
        "database-exporter",
        "his-simulator",
        "emr-fhir",
        "snmpd core-sw-1",
        "network-exporter",
        "mail-sink",
        "alert-router",
        "prometheus",
        "event-receiver",
        "event-devices",
    ]
    assert [n for n in names if is_simulated(part(n))] == [
        "postgresql emr-db",
        "his-simulator",
        "emr-fhir",
        "snmpd core-sw-1",
        "event-devices",
    ]


def test_secrets_are_copied_for_the_exporters(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "his" / "secrets").mkdir(parents=True)
    (run / "his" / "secrets" / "his-db-password").write_text("s3cret\n")
    (run / "database").mkdir()
    (run / "database" / "secrets").mkdir(parents=True)
    (run / "database" / "secrets" / "db-monitor-password").write_text("an0ther\n")
    (run / "logs").mkdir()
    out = tmp_path / "secrets"
    assert copy_secrets(run, out) == ["db-monitor-password", "his-db-password"]
    assert (out / "his-db-password").read_text() == "s3cret\n"
    assert (out / "his-db-password").stat().st_mode & 0o777 == 0o640


def test_the_simulated_ups_adopts_the_trap_community_the_receiver_already_holds(tmp_path: Path) -> None:
    # docker-compose.yml: `init` wrote the community and the event receiver read it at start; the simulated
    # UPS made its own. Its traps are accepted only if it sends the receiver's.
    run, out = tmp_path / "run", tmp_path / "secrets"
    (run / "events" / "secrets").mkdir(parents=True)
    (run / "events" / "secrets" / "trap-community").write_text("the-simulated-ups-own\n")
    out.mkdir()
    (out / "trap-community").write_text("written-by-init\n")
    copy_secrets(run, out)
    assert (out / "trap-community").read_text() == "written-by-init\n"
    assert (run / "events" / "secrets" / "trap-community").read_text() == "written-by-init\n"


def test_the_command_line_names_its_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo.simulate", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0
    assert "--secrets-out" in result.stdout

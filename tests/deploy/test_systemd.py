"""deploy/systemd/: every unit passes `systemd-analyze verify`, runs a console script hospmon installs, and
gives it only flags the program knows."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.servers import require

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
BIN = "/opt/hospmon/bin/"
EXPORTERS = ("network", "database", "his", "emr", "lis", "pacs", "reach")


def _scripts() -> dict[str, str]:
    scripts: dict[str, str] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    return scripts


def _instances() -> list[str]:
    """Unit names to verify: each plain unit, and the exporter template for each exporter installed."""
    names = [p.name for p in UNITS.iterdir() if "@" not in p.name]
    names += [f"hospmon-exporter@{e}.service" for e in EXPORTERS if f"hospmon-{e}-exporter" in _scripts()]
    return sorted(names)


def test_units_verify(tmp_path: Path) -> None:
    analyze = require("systemd-analyze")
    # The console scripts hospmon installs, as stand-ins where /opt/hospmon/bin would be.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for script in _scripts():
        (bin_dir / script).write_text("#!/bin/sh\n")
        (bin_dir / script).chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS.iterdir():
        (units / unit.name).write_text(unit.read_text().replace(BIN, f"{bin_dir}/"))
    for name in _instances():
        if "@" in name:
            shutil.copy(units / "hospmon-exporter@.service", units / name)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{n}" for n in _instances())],
        capture_output=True, text=True, cwd=units, env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )  # fmt: skip
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    assert len(_instances()) >= 8
    # Hardened: systemd rates each unit's exposure 2.5 or lower (Debian's prometheus: 4.0).
    for name in _instances():
        if name.endswith(".service"):
            rated = subprocess.run(
                [analyze, "security", "--offline=yes", "--threshold=25", f"./{name}"],
                capture_output=True, text=True, cwd=units,
            )  # fmt: skip
            assert rated.returncode == 0, f"{name}: {rated.stdout.splitlines()[-1:]}"


def _commands() -> dict[tuple[str, ...], set[str]]:
    """The flags each unit gives each (script, subcommand), default ARGS included."""
    found: dict[tuple[str, ...], set[str]] = {}
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace("\\\n", " ")
        defaults = [
            a for line in re.findall(r"^Environment=ARGS=(.*)$", text, flags=re.M) for a in shlex.split(line)
        ]
        for line in re.findall(r"^ExecStart(?:Pre)?=(.+)$", text, flags=re.M):
            argv = shlex.split(line)
            assert argv[0].startswith(BIN), f"{unit.name}: {argv[0]}"
            script = argv[0].removeprefix(BIN).replace("%i", "network")
            words = [a for a in argv[1:] if not a.startswith("$")]
            if "$ARGS" in argv:
                words += defaults
            sub = tuple(w for w in words if not w.startswith("-"))[:2] if script == "hospmon" else ()
            found.setdefault((script, *sub), set()).update(
                w.split("=", 1)[0] for w in words if w.startswith("--")
            )
    return found


@pytest.mark.parametrize("command", sorted(_commands()), ids=" ".join)
def test_units_run_our_scripts_with_flags_they_know(command: tuple[str, ...]) -> None:
    script, *subcommand = command
    entry = _scripts().get(script)
    assert entry is not None, f"{script} is not in pyproject's [project.scripts]"
    module, func = entry.split(":")
    code = f"import sys; from {module} import {func}; sys.exit({func}(sys.argv[1:]))"
    helped = subprocess.run(
        [sys.executable, "-c", code, *subcommand, "--help"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert helped.returncode == 0, helped.stderr
    for flag in sorted(_commands()[command]):
        assert flag in helped.stdout, f"{' '.join(command)} has no {flag}"

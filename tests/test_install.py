"""hospmon installs like real software: the wheel carries what its services read at run time, and each
component's extra installs only its own libraries.

The wheel is built from a copy of the checkout and installed into fresh virtualenvs outside it; the
programs run from there, in another folder, with no PYTHONPATH: nothing may come from the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from demo.servers.process import free_port, http_get, running
from demo.servers.snmpd import Agent, snmpd

REPO = Path(__file__).resolve().parent.parent
# Libraries of the other components: the network exporter's install must hold none of them.
OTHERS = (
    "flask",
    "sqlalchemy",
    "alembic",
    "apprise",
    "oracledb",
    "psycopg",
    "pymysql",
    "pynetdicom",
    "pydicom",
)
SOURCES = ("pyproject.toml", "README.md", "hospmon", "exporters", "alertrouter", "demo", "rules",
           "dashboards", "deploy")  # fmt: skip
# Data installed under <prefix>/share/hospmon/, as checked in (the generator's sources stay out).
SHARED = ("rules", "dashboards", "deploy")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "HOSPMON_SHARE")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _shared_files() -> list[str]:
    files = []
    for top in SHARED:
        for path in sorted((REPO / top).rglob("*")):
            relative = path.relative_to(REPO)
            if path.is_file() and "src" not in relative.parts and path.name != ".gitignore":
                files.append(relative.as_posix())
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the checkout's sources (pip's isolated build, as a packager would)."""
    base = tmp_path_factory.mktemp("wheel")
    (base / "src").mkdir()
    # dashboards/src/ is the dashboards' generator, not part of the package.
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "src")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, base / "src" / name, ignore=ignore)
        else:
            shutil.copy(source, base / "src" / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(base / "dist"),
         str(base / "src")],
        capture_output=True, text=True, env=_clean_env(), cwd=base, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return next((base / "dist").glob("hospmon-*.whl"))


def _venv(folder: Path, wheel: Path, extras: str) -> Path:
    """Make a fresh virtualenv outside the checkout and install the wheel with `extras`; return its bin/."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True, timeout=120)
    result = subprocess.run(
        [str(folder / "bin" / "pip"), "install", "-q", "--no-compile", f"{wheel}[{extras}]"],
        capture_output=True, text=True, env=_clean_env(), cwd=folder, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return folder / "bin"


def _run(bin_dir: Path, *argv: str, cwd: Path) -> str:
    result = subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]], capture_output=True, text=True, env=_clean_env(), cwd=cwd,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_wheel_carries_everything_the_services_read(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = f"{wheel.name.split('-py3')[0]}.data/data/share/hospmon/"
    needed = [f"{data}{f}" for f in _shared_files()]
    needed += [p.relative_to(REPO).as_posix() for p in (REPO / "alertrouter").rglob("*")
               if p.is_file() and p.suffix in (".css", ".js", ".html", ".mako", ".ini", ".py")
               and "__pycache__" not in p.parts]  # fmt: skip
    needed += [
        p.relative_to(REPO).as_posix() for p in (REPO / "demo").rglob("*") if p.suffix in (".yml", ".sql")
    ]
    needed += [p.relative_to(REPO).as_posix() for p in (REPO / "exporters").rglob("*.yml")]
    missing = sorted(set(needed) - names)
    assert not missing, f"not in the wheel: {missing}"


@pytest.fixture(scope="module")
def router_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("router") / "venv", wheel, "router")


def test_the_router_serves_its_styled_console_from_the_wheel(router_bin: Path, tmp_path: Path) -> None:
    venv = router_bin.parent
    rules = Path(_run(router_bin, "hospmon", "paths", "rules", cwd=tmp_path).strip())
    assert rules == venv / "share" / "hospmon" / "rules", rules
    assert (rules / "his.yml").read_text() == (REPO / "rules" / "his.yml").read_text()
    listing = _run(router_bin, "hospmon", "paths", cwd=tmp_path)
    shipped = ("dashboards/status_board.json", "dashboards/provisioning/datasources.yml",
               "deploy/prometheus/prometheus.yml", "deploy/systemd/hospmon-router.service")  # fmt: skip
    for relative in shipped:
        assert (venv / "share" / "hospmon" / relative).is_file(), relative
    assert str(REPO) not in listing, listing
    # The demo inventory is package data of the installed `demo` package; the policy is the installed one.
    where = "import demo, pathlib; print(pathlib.Path(demo.__file__).parent)"
    inventory = _run(router_bin, "python", "-c", where, cwd=tmp_path).strip()
    (tmp_path / "token").write_text("install-test-token\n")
    config = {
        "inventory": f"{inventory}/inventory",
        "database": {"url": f"sqlite:///{tmp_path / 'router.db'}"},
        "webhook_auth": {"bearer_token_file": "token"},
    }
    (tmp_path / "router.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    argv = [str(router_bin / "hospmon-router"), "--config.file=router.yml", "--db.upgrade",
            f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    ready = lambda: http_get(f"http://127.0.0.1:{port}/-/ready", timeout=1)[0] == 200  # noqa: E731
    with running(argv, ready, tmp_path / "router.log", cwd=tmp_path, env=_clean_env(), timeout=90):
        status, css = http_get(f"http://127.0.0.1:{port}/console/static/console.css")
        assert status == 200 and css == (REPO / "alertrouter/console/static/console.css").read_bytes()
        status, page = http_get(f"http://127.0.0.1:{port}/console/login")
        assert status == 200 and b"console.css" in page and b"<form" in page


@pytest.fixture(scope="module")
def network_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("network") / "venv", wheel, "network")


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    with snmpd() as running_agent:
        yield running_agent


def test_the_network_extra_alone_runs_the_network_exporter(
    network_bin: Path, agent: Agent, tmp_path: Path
) -> None:
    installed = _run(network_bin, "pip", "list", "--format=freeze", cwd=tmp_path).lower()
    present = [
        name for name in OTHERS if f"\n{name}==" in f"\n{installed}" or f"\n{name}-" in f"\n{installed}"
    ]
    assert not present, f"the network extra pulled in {present}"
    # The shipped config, with what it reads beside it: the lab community and the inventory (its allow-list),
    # here the demo's with the test's agent as a CI the network exporter watches.
    shipped = Path(_run(network_bin, "hospmon", "paths", "exporter-configs", cwd=tmp_path).strip())
    folder = tmp_path / "exporters"
    (folder / "secrets").mkdir(parents=True)
    config = Path(shutil.copy(shipped / "network.yml", folder / "network.yml"))
    (folder / "secrets" / "snmp-community").write_text("public\n")
    where = "import demo, pathlib; print(pathlib.Path(demo.__file__).parent / 'inventory')"
    demo_inventory = _run(network_bin, "python", "-c", where, cwd=tmp_path).strip()
    inventory = Path(shutil.copytree(demo_inventory, tmp_path / "inventory"))
    switch = {"id": "test-switch", "name": {"en": "Test switch"}, "kind": "switch", "service": "network",
              "department": "it", "address": agent.target,
              "monitor": [{"exporter": "network", "modules": ["system"], "auth": "public_v2"}]}  # fmt: skip
    (inventory / "90-test.yml").write_text(yaml.safe_dump({"cis": [switch]}))
    port = free_port()
    argv = [str(network_bin / "hospmon-network-exporter"), f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    ready = lambda: http_get(f"http://127.0.0.1:{port}/-/healthy", timeout=1)[0] == 200  # noqa: E731
    with running(argv, ready, tmp_path / "exporter.log", cwd=folder, env=_clean_env(), timeout=60):
        url = f"http://127.0.0.1:{port}/probe?target={agent.target}&module=system&auth=public_v2"
        status, body = http_get(url, timeout=30)
    assert status == 200, body
    assert 'hospmon_probe_success{module="system"} 1.0' in body.decode(), body.decode()[:2000]
    assert "hospmon_snmp_system_uptime_seconds" in body.decode()


def test_the_image_lock_pins_every_dependency_of_the_demo_extra() -> None:
    lock = (REPO / "requirements-image.txt").read_text(encoding="utf-8").lower()
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line and not line.startswith("#")}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra not in ("dev",):
            wanted |= {r for r in requirements if not r.startswith("hospmon[")}
    names = {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in wanted}
    missing = sorted(names - pinned)
    assert not missing, f"not pinned in requirements-image.txt (run make lock): {missing}"
    # pip-compile follows hospmon[all] back to the checkout it ran in; a constraint naming that path stops the
    # image installing its own wheel (pip: ResolutionImpossible).
    itself = re.search(r"^hospmon\b.*", lock, re.MULTILINE)
    assert itself is None, f"requirements-image.txt constrains hospmon itself: {itself and itself[0]}"

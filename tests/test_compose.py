"""docker-compose.yml: valid by the Compose Specification and by Debian's docker-compose, every file it mounts
or names exists, images are pinned, and it shares its configs with `make demo`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from tests.servers import require

REPO = Path(__file__).resolve().parent.parent
# Debian 12's docker-compose (1.29.2) ships the Compose Specification schema it validates with.
COMPOSE_SPEC = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
ENV = {"GRAFANA_ADMIN_PASSWORD": "test-only"}
EXPORTERS = ("network", "database", "his", "emr", "lis", "pacs", "middleware", "reach")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def _expand(value: str) -> str:
    """Resolve ${VAR:-default} to its default and ${VAR:?message} to the test's value, as Compose does."""
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: ENV[m.group(1)], value)


def _interpolated(node: Any) -> Any:
    if isinstance(node, str):
        return _expand(node)
    if isinstance(node, list):
        return [_interpolated(v) for v in node]
    if isinstance(node, dict):
        return {k: _interpolated(v) for k, v in node.items()}
    return node


def _binds(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host path, container path) of each bind mount."""
    found = []
    for volume in service.get("volumes", []):
        source, target = _expand(volume).split(":")[:2]
        if source.startswith((".", "/")):
            found.append((source, target))
    return found


def test_valid_by_the_compose_specification_schema() -> None:
    if not COMPOSE_SPEC.exists():
        pytest.fail(
            "the Compose Specification schema is missing: apt-get install docker-compose", pytrace=False
        )
    schema = json.loads(COMPOSE_SPEC.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(_interpolated(_compose()))
    ]
    assert not errors, "\n".join(errors)
    # The check can fail: an unknown service key is refused.
    broken = _interpolated(_compose())
    broken["services"]["prometheus"]["listen"] = "127.0.0.1:19090"
    assert not validator.is_valid(broken)


def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    binary = require("docker-compose")
    result = subprocess.run(
        [binary, "-f", str(REPO / "docker-compose.yml"), "--profile", "demo", "config", "--services"],
        capture_output=True, text=True, env={**os.environ, **ENV}, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    exporters = {f"{name}-exporter" for name in (*EXPORTERS, "inventory")}
    assert (
        services
        >= {"prometheus", "alertmanager", "grafana", "router", "router-db", "hospital", "event-receiver"}
        | exporters
    )


def test_every_bind_mount_named_file_and_build_context_exists() -> None:
    compose = _compose()
    missing = []
    for name, service in compose["services"].items():
        binds = _binds(service)
        for source, _ in binds:
            if not (REPO / source).exists():
                missing.append(f"{name}: {source}")
        # A container path named in the command must come from a bind mount of a file that exists.
        named = [
            p for arg in service.get("command", []) for p in re.findall(r"/etc/hospmon/[\w./-]+", str(arg))
        ]
        for value in named if name != "init" else []:
            path = PurePosixPath(value)
            host = [REPO / s / path.relative_to(t) for s, t in binds if path.is_relative_to(t)]
            if not host or not host[0].exists():
                missing.append(f"{name}: {value} is in no bind mount or missing on the host")
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build["context"]
            dockerfile = (REPO / context / "Dockerfile").read_text()
            target = None if isinstance(build, str) else build.get("target")
            if target and f" AS {target}\n" not in dockerfile:
                missing.append(f"{name}: Dockerfile has no stage {target}")
    assert not missing, missing


def test_images_are_pinned_and_parts_listen_on_loopback() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image", "")
        assert re.search(r":[\w.-]+$", image) and not image.endswith(":latest"), f"{name}: pin {image!r}"
        assert service.get("network_mode") == "host", name
        for arg in service.get("command", []):
            if isinstance(arg, str) and "listen-address=" in arg and "cluster" not in arg:
                assert "127.0.0.1:" in arg, f"{name}: {arg}"
            if isinstance(arg, str) and arg.startswith("listen_addresses="):
                assert arg == "listen_addresses=127.0.0.1", name


def test_compose_and_demo_share_config_files() -> None:
    services = _compose()["services"]
    mounts = {s for svc in services.values() for s, _ in _binds(svc)}
    demo = (REPO / "demo" / "launcher.py").read_text()
    for shared in ("deploy/prometheus/prometheus.yml", "deploy/alertmanager/alertmanager.yml"):
        assert f"./{shared}" in mounts
        assert repr(shared.split("/")[-1]) in demo or f'"{shared.split("/")[-1]}"' in demo
    assert {"./rules", "./dashboards", "./deploy/exporters", "./deploy/router/router.yml"} <= mounts
    # Each exporter listens where the demo's Prometheus config scrapes it.
    prometheus = (REPO / "deploy" / "prometheus" / "prometheus.yml").read_text()
    for name in EXPORTERS:
        command = " ".join(services[f"{name}-exporter"]["command"])
        listen = re.search(r"--web.listen-address=(\S+)", command)
        assert listen, name
        assert f"replacement: {listen.group(1)}" in prometheus, name


@pytest.mark.parametrize("name", EXPORTERS)
def test_shared_exporter_configs_are_valid(name: str, tmp_path: Path) -> None:
    """Each deploy/exporters config passes its exporter's --check-config (secrets replaced by test files, the
    inventory beside the folder), run from the config's folder as docker-compose.yml and the demo run them."""
    folder = tmp_path / "exporters"
    shutil.copytree(REPO / "deploy" / "exporters", folder)
    shutil.copytree(REPO / "demo" / "inventory", tmp_path / "inventory")  # ../inventory, as mounted
    text = (folder / f"{name}.yml").read_text()
    for secret in re.findall(r"_file: (secrets/[\w.-]+)", text):
        (folder / secret).write_text("test-only\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.update(dict.fromkeys(re.findall(r"_env: (\w+)", text), "test-only"))
    code = f"import sys; from exporters.{name}.main import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, f"--config.file={folder / f'{name}.yml'}", "--check-config"],
        capture_output=True, text=True, cwd=folder, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_router_config_is_valid(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("router-db-password", "router-webhook-token"):
        (secrets / name).write_text("test-only\n")
    text = (REPO / "deploy" / "router" / "router.yml").read_text()
    text = text.replace("/etc/hospmon/inventory", str(REPO / "demo" / "inventory"))
    text = text.replace("/etc/hospmon/rules", str(REPO / "rules")).replace("/secrets/", f"{secrets}/")
    (tmp_path / "router.yml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "alertrouter.main", f"--config.file={tmp_path / 'router.yml'}", "--check"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _events_folder(tmp_path: Path) -> Path:
    """Lay out deploy/events as the event-receiver container sees it, with the demo inventory mounted."""
    folder = tmp_path / "events"
    shutil.copytree(REPO / "deploy" / "events", folder)
    (folder / "secrets").mkdir()
    (folder / "secrets" / "trap-community").write_text("test-only\n")
    text = (folder / "events.yml").read_text()
    text = text.replace("/etc/hospmon/inventory", str(REPO / "demo" / "inventory"))
    text = text.replace("/etc/hospmon/rules", str(REPO / "rules"))
    (folder / "events.yml").write_text(
        text.replace("/var/lib/hospmon-event-receiver", str(tmp_path / "queue"))
    )
    return folder


def test_event_receiver_config_is_valid(tmp_path: Path) -> None:
    """deploy/events/events.yml passes --check-config, run from its folder with its secrets beside it."""
    folder = _events_folder(tmp_path)
    code = "import sys; from exporters.events.main import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "--config.file=events.yml", "--check-config"],
        capture_output=True, text=True, cwd=folder, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_simulated_event_device_maps_to_the_ci_it_plays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `--profile demo` the simulated devices send traps and syslog from their own 127.0.1.x addresses:
    the compose-shipped receiver config must map each to its CI, or they would all be unknown senders."""
    from demo.parts.events import DEVICES
    from exporters.events.config import load_config

    folder = _events_folder(tmp_path)
    monkeypatch.chdir(folder)
    sources = load_config(folder / "events.yml").sources
    assert {address: sources.lookup(address) for address in DEVICES} == DEVICES

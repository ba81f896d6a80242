"""docker-compose.yml: it parses, every file it mounts exists, and it shares its configs with `make demo`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def _expand(value: str) -> str:
    """Resolve ${VAR:-default} to its default, as Compose does when VAR is unset."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_every_bind_mount_and_build_context_exists() -> None:
    compose = _compose()
    named = set(compose.get("volumes", {}))
    missing = []
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = _expand(volume).split(":", 1)[0]
            if source in named:
                continue
            if not (REPO / source).exists():
                missing.append(f"{name}: {source}")
        if "build" in service and not (REPO / service["build"] / "Dockerfile").exists():
            missing.append(f"{name}: build context {service['build']} has no Dockerfile")
    assert not missing, missing


def test_images_are_pinned_and_parts_listen_on_loopback() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image", "")
        assert re.search(r":[\w.-]+$", image) and not image.endswith(":latest"), f"{name}: pin {image!r}"
        assert service.get("network_mode") == "host", name
        for arg in service.get("command", []):
            if isinstance(arg, str) and "listen-address=" in arg and "cluster" not in arg:
                assert "127.0.0.1:" in arg, f"{name}: {arg}"


def test_compose_and_demo_share_config_files() -> None:
    services = _compose()["services"].values()
    mounts = {_expand(v).split(":", 1)[0] for s in services for v in s.get("volumes", [])}
    demo = (REPO / "hospmon" / "demo.py").read_text()
    for shared in ("deploy/prometheus/prometheus.yml", "deploy/alertmanager/alertmanager.yml"):
        assert f"./{shared}" in mounts
        assert repr(shared.split("/")[-1]) in demo or f'"{shared.split("/")[-1]}"' in demo
    assert "./rules" in mounts and "./dashboards" in mounts

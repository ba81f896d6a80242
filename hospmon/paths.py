"""Where hospmon's data is: rules, dashboards and deploy configs, installed with the wheel or in a checkout.

A wheel installs them under ``<prefix>/share/hospmon/`` (the venv's or the system's prefix); a checkout (an
editable install, the tests) uses its own folders; ``$HOSPMON_SHARE`` overrides both.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

SHARE_ENV = "HOSPMON_SHARE"
# What a share folder holds, as `hospmon paths` names it.
LAYOUT = {
    "rules": "rules",
    "routing-policy": "rules/routing/policy.yml",
    "dashboards": "dashboards",
    "grafana-provisioning": "dashboards/provisioning",
    "deploy": "deploy",
    "exporter-configs": "deploy/exporters",
    "prometheus-config": "deploy/prometheus/prometheus.yml",
    "alertmanager-config": "deploy/alertmanager/alertmanager.yml",
    "systemd-units": "deploy/systemd",
}


def _checkout() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "rules").is_dir() else None


def candidates() -> list[Path]:
    """Return the folders looked in for the share data, in order."""
    found = [Path(os.environ[SHARE_ENV])] if os.environ.get(SHARE_ENV) else []
    checkout = _checkout()
    if checkout is not None:
        found.append(checkout)
    prefixes = [sysconfig.get_path("data"), sysconfig.get_path("data", f"{os.name}_user"), sys.prefix]
    for prefix in dict.fromkeys(prefixes):
        found.append(Path(prefix) / "share" / "hospmon")
    return found


def share_dir() -> Path:
    """Return the folder holding rules/, dashboards/ and deploy/, or raise `FileNotFoundError`."""
    for folder in candidates():
        if (folder / "rules").is_dir():
            return folder
    tried = ", ".join(str(c) for c in candidates())
    raise FileNotFoundError(
        f"hospmon's rules, dashboards and deploy files are not installed (looked in {tried})"
    )


def path(name: str) -> Path:
    """Return the path of one entry of `LAYOUT` (``rules``, ``routing-policy``, ...)."""
    return share_dir() / LAYOUT[name]


def rules_dir() -> Path:
    """Return the folder of the Prometheus rules (and ``routing/`` with the router's policy)."""
    return path("rules")


def policy_file() -> Path:
    """Return the shipped routing policy."""
    return path("routing-policy")


def deploy_dir() -> Path:
    """Return the folder of the deploy configs (Prometheus, Alertmanager, exporters, router, systemd)."""
    return path("deploy")


def dashboards_dir() -> Path:
    """Return the folder of the Grafana dashboards (and ``provisioning/``)."""
    return path("dashboards")

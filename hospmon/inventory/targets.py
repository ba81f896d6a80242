"""Prometheus file_sd target files from the inventory: adding a CI is all it takes to monitor it.

One file per exporter and module, e.g. ``network-if_mib.json``::

    [{"targets": ["127.0.0.1:11161"],
      "labels": {"ci": "core-sw-1", "service": "network", "department": "it", "tier": "1",
                 "module": "if_mib", "__param_module": "if_mib", "__param_auth": "public_v2"}}]

Prometheus turns ``__param_*`` labels into URL parameters of the scrape, so one job per exporter serves
every module. The ``native`` exporter means the CI serves Prometheus metrics itself and is scraped directly.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hospmon.inventory.model import Inventory

NATIVE = "native"
_OURS = re.compile(r"^[a-z0-9][a-z0-9._-]*-[a-z0-9][a-z0-9._-]*\.json$")


def target_groups(inv: Inventory) -> dict[str, list[dict[str, Any]]]:
    """Return the file_sd groups of every monitored CI, keyed by file name, in a stable order."""
    files: dict[str, list[dict[str, Any]]] = {}
    for ci in sorted(inv.cis.values(), key=lambda c: c.id):
        service = inv.services[ci.service]
        for mon in ci.monitor:
            address = mon.target or ci.address
            assert address is not None  # the inventory check refuses monitored CIs without one
            for module in mon.modules:
                labels = {
                    "ci": ci.id,
                    "service": ci.service,
                    "department": inv.department_of(ci.id),
                    "tier": str(service.tier),
                }
                if mon.exporter != NATIVE:
                    labels["module"] = module
                    labels["__param_module"] = module
                    if mon.auth:
                        labels["__param_auth"] = mon.auth
                files.setdefault(f"{mon.exporter}-{module}.json", []).append(
                    {"targets": [address], "labels": labels}
                )
    return files


def write_targets(inv: Inventory, out: str | Path) -> list[Path]:
    """Write the target files atomically and remove files of exporters or modules no longer used."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    groups = target_groups(inv)
    for name, content in groups.items():
        path = out / name
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            written.append(path)
            continue
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        written.append(path)
    for stale in out.glob("*.json"):
        if stale.name not in groups and _OURS.match(stale.name):
            stale.unlink()
    return written

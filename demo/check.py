"""What `hospmon demo` checks and shows once its parts run: every target up, the warranty alert in
Alertmanager, and where to look."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo import ports
from demo.servers.process import http_get, wait_until

# The demo moves this CI's warranty end to a few weeks from today, so the warranty alert fires whatever
# day the demo runs.
WARRANTY_DEMO_CI = "ups-mr1-02"
WARRANTY_DEMO_DAYS = 20


def _holds(check: Callable[[], bool], timeout: float) -> bool:
    try:
        return bool(wait_until(check, "check", timeout, interval=2))
    except TimeoutError:
        return False


def _json(url: str) -> Any:
    status, body = http_get(url, timeout=2)
    return json.loads(body) if status == 200 else None


def check_stack(timeout: float = 150.0) -> list[str]:
    """Wait for every Prometheus target to be up and the warranty alert to reach Alertmanager."""
    problems: list[str] = []

    def targets_up() -> bool:
        data = _json(ports.url(ports.PROMETHEUS, "/api/v1/targets?state=active"))
        active = data["data"]["activeTargets"] if data else []
        return bool(active) and all(t["health"] == "up" for t in active)

    def warranty_alert() -> bool:
        alerts = _json(ports.url(ports.ALERTMANAGER, "/api/v2/alerts")) or []
        return any(
            a["labels"].get("alertname") == "CIWarrantyExpiringSoon"
            and a["labels"].get("ci") == WARRANTY_DEMO_CI
            for a in alerts
        )

    started = time.monotonic()
    if not _holds(targets_up, timeout):
        data = _json(ports.url(ports.PROMETHEUS, "/api/v1/targets?state=active"))
        down = [
            f"{t['labels'].get('job')}/{t['labels'].get('ci')}: {t['lastError']}"
            for t in (data["data"]["activeTargets"] if data else [])
            if t["health"] != "up"
        ]
        problems.append("targets not up: " + "; ".join(down or ["no active targets"]))
    else:
        print(f"  every Prometheus target is up ({time.monotonic() - started:.0f} s)")
    if not _holds(warranty_alert, max(0.0, timeout - (time.monotonic() - started))):
        problems.append(f"CIWarrantyExpiringSoon for {WARRANTY_DEMO_CI} did not reach Alertmanager")
    else:
        print(
            f"  warranty alert for {WARRANTY_DEMO_CI} is in Alertmanager ({time.monotonic() - started:.0f} s)"
        )
    return problems


def where_to_look(run: Path) -> str:
    """Return the addresses to open, as Debian's packages serve them."""
    prom, am, console = ports.url(ports.PROMETHEUS), ports.url(ports.ALERTMANAGER), ports.url(ports.ROUTER)
    return (
        "\nThe simulated hospital is monitored. Open:\n"
        f"  Operations console  {console}/console/  (password: {run / 'console/password'})\n"
        f"  Prometheus targets  {prom}/classic/targets\n"
        f"  Prometheus alerts   {prom}/classic/alerts\n"
        f"  Alertmanager        amtool --alertmanager.url={am} alert query   (API: {am}/api/v2/alerts)\n"
        f"  Inventory metrics   {ports.url(ports.INVENTORY_EXPORTER, '/metrics')}\n"
        "Grafana and its dashboards run in docker-compose (README).\n"
    )

"""The patient-facing blast radius: beds and wards affected, and outpatient registrations per hour lost.

Beds come from the inventory's departments; registrations from the HIS exporter's live count through
Prometheus (``wards.registrations_per_hour``), read at most once a minute. Counts only, never patients.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import requests

from alertrouter.context import Router
from alertrouter.httpauth import requests_auth

CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, float | None]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Impact:
    """What an outage means for patients, in counts."""

    beds: int
    wards: int
    """Departments with beds among those affected."""
    registrations_per_hour: int | None
    """Outpatient registrations an hour that cannot happen; None: the HIS is not reached, or no rate."""


def registrations_per_hour(router: Router) -> float | None:
    """Return the live outpatient registrations per hour from Prometheus, or None when it cannot say."""
    cfg = router.settings.file.wards
    if not cfg.prometheus_url:
        return None
    now = time.monotonic()
    with _lock:
        cached = _cache.get(cfg.prometheus_url)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    value: float | None = None
    try:
        resp = requests.get(
            f"{cfg.prometheus_url.rstrip('/')}/api/v1/query",
            params={"query": cfg.registrations_per_hour},
            timeout=3,
            auth=requests_auth(router.settings.wards_prometheus_auth),
        )
        result = resp.json()["data"]["result"] if resp.ok else []
        if result:
            value = float(result[0]["value"][1])
            value = value if math.isfinite(value) else None
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError):
        value = None
    with _lock:
        _cache[cfg.prometheus_url] = (now, value)
    return value


def patient_impact(router: Router, departments: list[str], services: list[str]) -> Impact:
    """Count the beds and wards of the departments affected, and the registrations lost if HIS is reached."""
    inv = router.inventory
    beds = [inv.departments[d].beds for d in departments if d in inv.departments]
    rate = None
    if router.settings.file.wards.registrations_service in services:
        found = registrations_per_hour(router)
        rate = round(found) if found is not None else None
    return Impact(sum(beds), sum(1 for b in beds if b), rate)

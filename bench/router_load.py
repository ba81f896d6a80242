"""The router bench's inputs and load: a generated hospital inventory, webhook bodies, and a turn of posts."""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import shutil
import socket
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.harness import Report, tree_cpu_seconds

RULES = (("TargetDown", "critical"), ("HighLatency", "warning"), ("ProbeFailed", "critical"),
         ("DiskFilling", "warning"), ("InterfaceErrors", "info"))  # fmt: skip
SERVICES = ("his", "emr", "lis", "pacs", "integration", "insurance")
CLINICAL = (
    "ed",
    "icu",
    "wards",
    "lab",
    "radiology",
    "outpatient",
    "pharmacy-op",
    "billing",
    "or",
    "dialysis",
)


@dataclass(frozen=True)
class Cell:
    """One load shape: alerts per request, concurrent clients, requests per turn."""

    batch: int
    clients: int
    requests: int


def generate_inventory(demo: Path, out: Path, count: int) -> list[str]:
    """Write the demo inventory plus `count` generated CIs to `out`; return the generated CI ids."""
    shutil.copytree(demo, out)
    cis: list[dict[str, object]] = []
    buildings = max(1, count // 250)
    for b in range(buildings):
        agg = f"bench-agg-{b}"
        cis.append({"id": agg, "kind": "switch", "service": "network", "department": "it",
                    "depends_on": ["core-sw-1", "core-sw-2"]})  # fmt: skip
        for f in range(10):
            acc = f"bench-acc-{b}-{f}"
            dept = CLINICAL[(b * 10 + f) % len(CLINICAL)]
            cis.append(
                {"id": acc, "kind": "switch", "service": "network", "department": dept, "depends_on": [agg]}
            )
            for n in range(23):
                service = SERVICES[(b + f + n) % len(SERVICES)]
                kind = ("server", "application", "workstation", "virtual_machine", "modality")[n % 5]
                if kind == "workstation":
                    service = "network"
                if kind == "modality":
                    service = "pacs"
                cis.append({"id": f"bench-{kind}-{b}-{f}-{n}", "kind": kind, "service": service,
                            "department": dept, "depends_on": [acc]})  # fmt: skip
    cis = cis[:count]
    (out / "80-cis-bench.yml").write_text(yaml.safe_dump({"cis": cis}, allow_unicode=True))
    return [str(ci["id"]) for ci in cis]


def payloads(cis: list[str], batch: int, seed: int) -> list[bytes]:
    """Build Alertmanager v4 bodies of `batch` alerts, one alert per CI in `cis`, all new fingerprints."""
    rng = random.Random(seed)
    bodies = []
    for start in range(0, len(cis), batch):
        alerts = []
        for ci in cis[start : start + batch]:
            name, severity = rng.choice(RULES)
            labels = {"alertname": name, "ci": ci, "instance": ci, "job": "bench", "severity": severity}
            fingerprint = hashlib.sha256(f"{seed}:{ci}:{name}".encode()).hexdigest()[:16]
            alerts.append({
                "status": "firing", "labels": labels,
                "annotations": {"summary": f"{name} on {ci}", "description": f"{name} has fired on {ci}."},
                "startsAt": "2026-01-05T09:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
            })  # fmt: skip
        body = {"version": "4", "groupKey": f"{{}}:{{alertname=\"{alerts[0]['labels']['alertname']}\"}}",
                "truncatedAlerts": 0, "status": "firing", "receiver": "hospmon-router",
                "groupLabels": {}, "commonLabels": {"job": "bench"}, "commonAnnotations": {},
                "externalURL": "http://alertmanager:9093", "alerts": alerts}  # fmt: skip
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


class _Connection(http.client.HTTPConnection):
    """Keep-alive HTTP with TCP_NODELAY, as Alertmanager's Go client sends."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def post_turn(
    url: str, bodies: list[bytes], clients: int, headers: dict[str, str], report: Report, name: str,
    pid: int, pg_pid: int,
) -> dict[str, float]:  # fmt: skip
    """Post every body from `clients` threads; return alerts/s, p50/p99 ms and CPU ms per alert."""
    parts = urllib.parse.urlsplit(url)
    alerts = sum(body.count(b'"fingerprint"') for body in bodies)
    lock, queue = threading.Lock(), list(reversed(bodies))
    latencies: list[float] = []
    failed: list[str] = []
    sent = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.25.0", **headers}

    def client() -> None:
        conn = _Connection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            t0 = time.perf_counter()
            try:
                conn.request("POST", parts.path, body=body, headers=sent)
                resp = conn.getresponse()
                text = resp.read()
                status = resp.status
            except OSError as exc:
                conn.close()
                status, text = 0, repr(exc).encode()
            with lock:
                latencies.append(time.perf_counter() - t0)
            if not 200 <= status < 300:
                with lock:
                    failed.append(f"HTTP {status}: {text[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu0, db0, start = (tree_cpu_seconds(pid) if pid else 0.0), tree_cpu_seconds(pg_pid), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu, db = (tree_cpu_seconds(pid) - cpu0) if pid else 0.0, tree_cpu_seconds(pg_pid) - db0
    if failed:
        report.fail(f"{name}: {len(failed)} of {len(bodies)} requests failed; first: {failed[0]}")
    latencies.sort()
    return {
        "alerts_per_s": alerts / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu": cpu / alerts * 1000,
        "db_cpu": db / alerts * 1000,
    }

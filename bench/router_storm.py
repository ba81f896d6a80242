"""Alert storm: one core switch fails and 5,000 reachability alerts arrive through a real Alertmanager.

    python bench/router_storm.py [--runs 3] [--alerts 5000] [--seconds 60] [--root-at 0]

A generated inventory hangs 99 access switches and 4,900 virtual machines (HIS, LIS, PACS, EMR; every
department) below core-sw-1 of the demo inventory. Within `--seconds`, Debian's Alertmanager, with the
shipped route config, receives CIProbeFailed for core-sw-1 (at `--root-at` seconds) and for every CI
below it, plus three faults the switch does not explain, each with its own owner: TemperatureHigh on the
PACS archive NAS, StorageAlmostFull on the backup appliance and on a HIS VM below the switch. Alertmanager
delivers to hospmon-router (gunicorn, background worker on, SQLite), which emails a real SMTP sink.

Printed per run and as medians with ranges: time from the router's first delivery to the first page; pages
(emails) sent and incidents paged, against the goal of one per root cause plus one per unrelated owner;
alerts stored against alerts sent. The peer is Alertmanager itself, on the same alerts in the same run: the
notifications it delivered are what an Alertmanager-only setup (one receiver, the shipped grouping) pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.router.servers import Process, shipped_alertmanager_config, start_router  # noqa: E402
from tests.router.smtp import SmtpServer  # noqa: E402
from tests.servers import alertmanager  # noqa: E402

TOKEN = "storm-bench-token-0123456789"
ROOT = "core-sw-1"
ACCESS = 99
SERVICES = ("his", "lis", "pacs", "emr")
DEPARTMENTS = ("ed", "icu", "or", "wards", "lab", "radiology", "outpatient", "pharmacy-op", "billing")
UNRELATED = (
    ("TemperatureHigh", "nas-pacs-1"),  # the PACS team's, beside the storm
    ("StorageAlmostFull", "backup-1"),  # the infrastructure team's, beside the storm
    ("StorageAlmostFull", "storm-vm-00000"),  # a HIS VM below the switch: the switch does not fill its disk
)


def inventory(folder: Path, alerts: int) -> list[str]:
    """Copy the demo inventory and add the CIs below the root; return the downstream CIs, switches first."""
    shutil.copytree(REPO / "demo" / "inventory", folder)
    switches = [f"storm-acc-{n:03d}" for n in range(ACCESS)]
    cis: list[dict[str, Any]] = [
        {"id": s, "kind": "switch", "service": "network", "department": DEPARTMENTS[n % len(DEPARTMENTS)],
         "depends_on": [ROOT]}
        for n, s in enumerate(switches)
    ]  # fmt: skip
    machines = [f"storm-vm-{n:05d}" for n in range(alerts - 1 - ACCESS)]
    cis += [
        {"id": m, "kind": "virtual_machine", "service": SERVICES[n % len(SERVICES)],
         "department": DEPARTMENTS[n % len(DEPARTMENTS)], "depends_on": [switches[n % ACCESS]]}
        for n, m in enumerate(machines)
    ]  # fmt: skip
    (folder / "90-storm.yml").write_text(yaml.safe_dump({"cis": cis}))
    return switches + machines


def am_alert(name: str, ci: str, severity: str, now: dt.datetime) -> dict[str, Any]:
    """One alert as Prometheus posts it to Alertmanager."""
    return {
        "labels": {"alertname": name, "ci": ci, "severity": severity},
        "annotations": {"summary": f"{ci}: {name}"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
    }


class Sink(SmtpServer):
    """The SMTP sink, noting when each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []
        self.mailbox.before_reply = self._arrived

    def _arrived(self, msg: EmailMessage) -> None:
        self.arrivals.append(time.time())


def storm(am: str, downstream: list[str], seconds: float, root_at: float) -> int:
    """Post the root, every downstream alert and the unrelated faults, spread evenly over `seconds`."""
    now = dt.datetime.now(dt.UTC)
    alerts = [am_alert("CIProbeFailed", ci, "critical", now) for ci in downstream]
    middle = len(alerts) // 2
    for name, ci in UNRELATED:
        alerts.insert(middle, am_alert(name, ci, "critical", now))
    root = am_alert("CIProbeFailed", ROOT, "critical", now)
    batches = max(1, int(seconds))
    size = -(-len(alerts) // batches)
    start = time.monotonic()
    for i in range(batches):
        batch = alerts[i * size : (i + 1) * size]
        if root is not None and time.monotonic() - start >= root_at:
            batch, root = [root, *batch], None
        if batch:
            requests.post(f"{am}/api/v2/alerts", json=batch, timeout=30).raise_for_status()
        time.sleep(max(0.0, start + (i + 1) * seconds / batches - time.monotonic()))
    if root is not None:
        requests.post(f"{am}/api/v2/alerts", json=[root], timeout=30).raise_for_status()
    return len(alerts) + 1


def store(db: Path) -> tuple[int, float | None]:
    """Return the alerts stored and when the first was received (epoch seconds)."""
    with sqlite3.connect(db) as conn:
        count, first = conn.execute("SELECT count(*), min(first_received_at) FROM alerts").fetchone()
    when = dt.datetime.fromisoformat(first).replace(tzinfo=dt.UTC).timestamp() if first else None
    return int(count), when


def notifications(am: str) -> int:
    """Return the webhook notifications Alertmanager sent, from its own metrics."""
    body = requests.get(f"{am}/metrics", timeout=60).text
    return int(
        sum(
            float(line.split()[-1])
            for line in body.splitlines()
            if line.startswith("alertmanager_notifications_total{") and 'integration="webhook"' in line
        )
    )


def run_once(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """Run one storm on fresh servers and a fresh store; return its figures."""
    downstream = inventory(workdir / "inventory", args.alerts)
    (workdir / "token").write_text(TOKEN + "\n")
    sink = Sink().start()
    assert isinstance(sink, Sink)
    config = {
        "inventory": str(workdir / "inventory"),
        "policy": str(REPO / "rules" / "routing" / "policy.yml"),
        "database": {"url": f"sqlite:///{workdir / 'router.db'}"},
        "webhook_auth": {"bearer_token_file": "token"},
        "channels": [{"name": "email", "kind": "email",
                      "smtp": {"host": "127.0.0.1", "port": sink.port, "sender": "router@hospital.example",
                               "security": "none"}}],
    }  # fmt: skip
    (workdir / "router.yml").write_text(yaml.safe_dump(config))
    router: Process
    router, port = start_router(workdir, workdir / "router.yml")
    try:
        hook = f"http://127.0.0.1:{port}/webhook/alertmanager"
        with alertmanager(shipped_alertmanager_config(hook, workdir / "token"), workdir / "am") as am:
            began = time.monotonic()
            sent = storm(am, downstream, args.seconds, args.root_at)
            deadline = time.monotonic() + args.timeout
            while store(workdir / "router.db")[0] < sent and time.monotonic() < deadline:
                time.sleep(1)
            all_stored = time.monotonic() - began
            time.sleep(args.settle)  # let the worker page whatever the last deliveries opened
            stored, first = store(workdir / "router.db")
            notified = notifications(am)
        with sqlite3.connect(workdir / "router.db") as conn:
            paged = conn.execute(
                "SELECT count(DISTINCT incident_id) FROM notifications WHERE status = 'sent'"
            ).fetchone()[0]
    finally:
        router.stop()
        sink.stop()
    latency = min(sink.arrivals) - first if sink.arrivals and first else float("nan")
    return {
        "sent": sent, "stored": stored, "first_page_s": latency, "emails": len(sink.arrivals),
        "incidents_paged": paged, "goal": 1 + len(UNRELATED), "am_notifications": notified,
        "all_stored_s": all_stored, "load1": os.getloadavg()[0],
    }  # fmt: skip


def main() -> int:
    """Run the storms and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--alerts", type=int, default=5000, help="the root and every CI below it")
    parser.add_argument("--seconds", type=float, default=60.0, help="spread the alerts over this long")
    parser.add_argument("--root-at", type=float, default=0.0, help="when the core switch's own alert comes")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting for the store")
    parser.add_argument("--settle", type=float, default=10.0, help="wait after the last alert is stored")
    args = parser.parse_args()
    results = []
    for n in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="hospmon-storm-") as tmp:
            figures = run_once(args, Path(tmp))
        results.append(figures)
        print(f"run {n + 1}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in figures.items()), flush=True)  # fmt: skip
    print(f"\nstorm: {args.alerts} alerts from {ROOT} over {args.seconds:.0f} s, root at"
          f" {args.root_at:.0f} s, + {len(UNRELATED)} unrelated; {args.runs} runs,"
          " median (min-max)")  # fmt: skip
    keys = ("first_page_s", "emails", "incidents_paged", "goal", "am_notifications", "stored", "sent")
    for key in (*keys, "all_stored_s", "load1"):
        values = [float(r[key]) for r in results]
        print(f"  {key:18} {statistics.median(values):10.2f}  ({min(values):.2f}-{max(values):.2f})")
    pages = statistics.median(float(r["emails"]) for r in results)
    peer = statistics.median(float(r["am_notifications"]) for r in results)
    print(f"  Alertmanager alone would page {peer:.0f} times; the router paged {pages:.0f}"
          f" ({peer / pages if pages else float('nan'):.0f}x fewer)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

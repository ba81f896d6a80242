"""Alert storm: one core switch fails and 5,000 reachability alerts arrive through a real Alertmanager.

    python bench/router_storm.py [--runs 5] [--alerts 5000] [--seconds 60] [--root-at 0]

A generated inventory hangs 99 access switches and 4,900 virtual machines (HIS, LIS, PACS, EMR; every
department) below core-sw-1 of the demo inventory. Within `--seconds`, Debian's Alertmanager with the shipped
route config receives CIProbeFailed for core-sw-1 (at `--root-at` seconds) and for every CI below it, plus
three faults the switch does not explain, each with its own owner: TemperatureHigh on the PACS archive NAS,
StorageAlmostFull on the backup appliance and on a HIS VM below the switch. Alertmanager delivers to
hospmon-router (gunicorn, background worker on, SQLite), which e-mails an SMTP sink (aiosmtpd).

Printed, median [range] over the runs: time from the router's first delivery to the first page; pages
(e-mails) and incidents paged against the goal (one per root cause plus one per unrelated owner); alerts
stored against alerts sent; how long after the router's first delivery the core switch's own alert came, and
how many alerts came before it (the ones whose first page the settle hold, `storms.settle_seconds` of the
shipped policy, kept back until the root adopted them). The peer is Alertmanager itself on the same alerts in
the same run: the webhook notifications it sent (from its own metrics) are what a setup paging straight from
Alertmanager would send. Peer and ours are one pipeline here, so there are no alternating turns; each run
starts everything afresh.
Exit status 1 when an alert is not stored or the pages differ from the goal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml
from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness import Report, spread  # noqa: E402
from bench.router_peer import TOKEN, router  # noqa: E402
from bench.servers import free_port, http_ok, process  # noqa: E402

ROOT = "core-sw-1"
ACCESS = 99
SERVICES = ("his", "lis", "pacs", "emr")
DEPARTMENTS = ("ed", "icu", "or", "wards", "lab", "radiology", "outpatient", "pharmacy-op", "billing")
UNRELATED = (
    ("TemperatureHigh", "nas-pacs-1"),  # the PACS team's, beside the storm
    ("StorageAlmostFull", "backup-1"),  # the infrastructure team's, beside the storm
    ("StorageAlmostFull", "storm-vm-00000"),  # a HIS VM below the switch: the switch does not fill its disk
)
GOAL = 1 + len(UNRELATED)


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


def am_alert(name: str, ci: str, now: dt.datetime) -> dict[str, Any]:
    """One alert as Prometheus posts it to Alertmanager."""
    return {
        "labels": {"alertname": name, "ci": ci, "severity": "critical"},
        "annotations": {"summary": f"{ci}: {name}"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
    }


class Sink:
    """An SMTP server (aiosmtpd) noting when each message arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the arrival time; answer 250."""
        email.message_from_bytes(envelope.content)
        self.arrivals.append(time.time())
        return "250 OK"


@contextmanager
def alertmanager(webhook: str, folder: Path) -> Iterator[str]:
    """Run Debian's Alertmanager with deploy/alertmanager/alertmanager.yml sending to `webhook`."""
    config: dict[str, Any] = yaml.safe_load(
        (REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text()
    )
    hook = config["receivers"][0]["webhook_configs"][0]
    hook["url"] = webhook
    hook["http_config"]["authorization"]["credentials_file"] = str(folder / "token")
    folder.mkdir()
    (folder / "token").write_text(TOKEN)
    (folder / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["prometheus-alertmanager", f"--config.file={folder / 'alertmanager.yml'}",
            f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address="]  # fmt: skip
    with process(argv, lambda: http_ok(f"{url}/-/ready"), folder / "alertmanager.log"):
        yield url


def storm(am: str, downstream: list[str], seconds: float, root_at: float) -> int:
    """Post the root, every downstream alert and the unrelated faults, spread evenly over `seconds`."""
    now = dt.datetime.now(dt.UTC)
    alerts = [am_alert("CIProbeFailed", ci, now) for ci in downstream]
    for name, ci in UNRELATED:
        alerts.insert(len(alerts) // 2, am_alert(name, ci, now))
    root: dict[str, Any] | None = am_alert("CIProbeFailed", ROOT, now)
    batches = max(1, int(seconds))
    size = -(-len(alerts) // batches)
    start = time.monotonic()
    for i in range(batches):
        batch = alerts[i * size : (i + 1) * size]
        if root is not None and time.monotonic() - start >= root_at:
            batch, root = [root, *batch], None
        if batch:
            requests.post(f"{am}/api/v2/alerts", json=batch, timeout=60).raise_for_status()
        time.sleep(max(0.0, start + (i + 1) * seconds / batches - time.monotonic()))
    if root is not None:
        requests.post(f"{am}/api/v2/alerts", json=[root], timeout=60).raise_for_status()
    return len(alerts) + 1


def _epoch(text: str | None) -> float | None:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() if text else None


def stored(db: Path) -> tuple[int, float | None, int]:
    """Return the alerts stored, when the first was received (epoch seconds), and the incidents paged."""
    with sqlite3.connect(db) as conn:
        count, first = conn.execute("SELECT count(*), min(first_received_at) FROM alerts").fetchone()
        paged = conn.execute(
            "SELECT count(DISTINCT incident_id) FROM notifications WHERE status = 'sent'"
        ).fetchone()[0]
    return int(count), _epoch(first), int(paged)


def root_order(db: Path) -> tuple[float, int]:
    """Return how long after the first alert the root's came (s), and how many alerts came before it."""
    with sqlite3.connect(db) as conn:
        (root,) = conn.execute("SELECT first_received_at FROM alerts WHERE ci = ?", (ROOT,)).fetchone()
        (first,) = conn.execute("SELECT min(first_received_at) FROM alerts").fetchone()
        query = "SELECT count(*) FROM alerts WHERE first_received_at < ?"
        (before,) = conn.execute(query, (root,)).fetchone()
    return (_epoch(root) or 0.0) - (_epoch(first) or 0.0), int(before)


def settle_seconds() -> int:
    """Return the shipped policy's settle hold: how long a dependent's first page waits for its root."""
    policy = yaml.safe_load((REPO / "rules" / "routing" / "policy.yml").read_text())
    return int(policy.get("storms", {}).get("settle_seconds", 0))


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
    sink = Sink()
    sink.controller.start()
    channel = {"name": "email", "kind": "email", "smtp": {"host": "127.0.0.1", "port": sink.port,
               "sender": "router@hospital.example", "security": "none"}}  # fmt: skip
    db = workdir / "router.db"
    try:
        with (
            router(f"sqlite:///{db}", workdir / "inventory", workdir, 1, channels=[channel]) as (_, hook),
            alertmanager(hook, workdir / "am") as am,
        ):
            began = time.monotonic()
            sent = storm(am, downstream, args.seconds, args.root_at)
            deadline = time.monotonic() + args.timeout
            while stored(db)[0] < sent and time.monotonic() < deadline:
                time.sleep(1)
            all_stored = time.monotonic() - began
            time.sleep(args.settle)  # let the worker page whatever the last deliveries opened, once held
            count, first, paged = stored(db)
            root_after, before_root = root_order(db)
            peer = notifications(am)
    finally:
        sink.controller.stop()
    latency = min(sink.arrivals) - first if sink.arrivals and first else float("nan")
    return {"sent": sent, "stored": count, "first_page_s": latency, "pages": len(sink.arrivals),
            "incidents_paged": paged, "peer_pages": peer, "all_stored_s": all_stored,
            "root_after_s": root_after, "before_root": before_root}  # fmt: skip


def main() -> int:
    """Run the storms and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--alerts", type=int, default=5000, help="the root and every CI below it")
    parser.add_argument("--seconds", type=float, default=60.0, help="spread the alerts over this long")
    parser.add_argument("--root-at", type=float, default=0.0, help="when the core switch's own alert comes")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting for the store")
    parser.add_argument(
        "--settle",
        type=float,
        default=settle_seconds() + 15.0,
        help="wait after the last alert is stored (the settle hold and two worker passes, by default)",
    )
    args = parser.parse_args()
    report = Report("Alert storm below one core switch", peer="Alertmanager alone", ours="hospmon-router")
    report.header(
        storm=f"{args.alerts} alerts from {ROOT} over {args.seconds:.0f} s, root at {args.root_at:.0f} s, "
        f"+ {len(UNRELATED)} unrelated faults with their own owners; goal {GOAL} pages",
        store="SQLite, 1 gunicorn worker, background worker every 2 s",
        policy=f"shipped; storms.settle_seconds {settle_seconds()}",
    )
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="hospmon-storm-") as tmp:
            runs.append(run_once(args, Path(tmp)))
        report.note(
            ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in runs[-1].items())
        )

    def col(key: str) -> list[float]:
        return [float(r[key]) for r in runs]

    report.figure("pages (e-mails / notifications)", col("peer_pages"), col("pages"), digits=0)
    report.figure("alerts stored / sent", col("sent"), col("stored"), digits=0)
    report.note(f"incidents paged {spread(col('incidents_paged'), 0)}, goal {GOAL}")
    report.note(f"first page after the router's first delivery: {spread(col('first_page_s'), 2)} s")
    report.note(f"every alert stored {spread(col('all_stored_s'), 1)} s after the storm began")
    report.note(
        f"the core switch's alert came {spread(col('root_after_s'), 2)} s after the router's first delivery, "
        f"after {spread(col('before_root'), 0)} alerts of CIs below it"
    )
    for r in runs:
        report.same("alerts stored", int(r["sent"]), int(r["stored"]))
        if r["pages"] != GOAL:
            report.fail(f"{int(r['pages'])} pages, goal {GOAL}")
    return report.done()


if __name__ == "__main__":
    sys.exit(main())

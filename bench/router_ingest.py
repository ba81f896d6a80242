"""Measure the router's webhook intake: alerts/s and p50/p99 latency, on SQLite and PostgreSQL.

    python bench/router_ingest.py [--seconds 5] [--stores sqlite,postgresql] [--batches 1,50,500]
                                  [--concurrency 1,2,4,8] [--workers N] [--threads 8]

The router runs as it does in production (``hospmon-router``: gunicorn, gthread workers, background worker
on) against a fresh store; PostgreSQL is a private server on this machine. Every request carries new
alerts (new fingerprints) on CIs drawn from the demo inventory, so priority, grouping and ownership are
computed for every alert.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demo.servers.postgres import PostgresServer  # noqa: E402
from demo.servers.process import free_port  # noqa: E402
from hospmon.inventory import load_inventory  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
CIS = sorted(load_inventory(REPO / "demo" / "inventory").cis)


def payload(n: int, rng: random.Random) -> bytes:
    """Build a webhook with n new alerts."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    alerts = []
    for _ in range(n):
        ci = rng.choice(CIS)
        alerts.append(
            {
                "status": "firing",
                "labels": {
                    "alertname": rng.choice(["TargetDown", "HighLatency", "ProbeFailed"]),
                    "ci": ci,
                    "severity": rng.choice(["critical", "warning", "info"]),
                    "instance": ci,
                },
                "annotations": {"summary": f"bench alert on {ci}"},
                "startsAt": now,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": uuid.uuid4().hex[:16],
            }
        )
    body = {
        "receiver": "hospmon-router",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()


class Router:
    """A hospmon-router process on a fresh store."""

    def __init__(self, url: str, workdir: Path, workers: int, threads: int) -> None:
        self.port = free_port()
        (workdir / "token").write_text(TOKEN)
        config = {
            "inventory": str(REPO / "demo" / "inventory"),
            "policy": str(REPO / "rules" / "routing" / "policy.yml"),
            "database": {"url": url, "pool_size": threads + 2},
            "webhook_auth": {"bearer_token_file": "token"},
            "max_body_bytes": 16 * 1024 * 1024,
            "worker": {"enabled": True, "interval_seconds": 2},
        }
        (workdir / "router.yml").write_text(json.dumps(config))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alertrouter.main",
                "--config.file",
                str(workdir / "router.yml"),
                "--db.upgrade",
                "--web.listen-address",
                f"127.0.0.1:{self.port}",
                "--threads",
                str(threads),
                *(["--workers", str(workers)] if workers else []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "router.log").open("wb"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/-/ready")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"router did not start; see {workdir / 'router.log'}")

    def stop(self) -> None:
        """Stop the router."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_cell(port: int, batch: int, concurrency: int, seconds: float) -> dict[str, Any]:
    """Post batches from `concurrency` clients for `seconds`; return throughput and latency."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        while time.monotonic() < stop_at:
            body = payload(batch, rng)
            start = time.perf_counter()
            conn.request(
                "POST",
                "/webhook/alertmanager",
                body=body,
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - start)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(random.randrange(1 << 30),)) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "requests": len(latencies),
        "alerts_per_s": len(latencies) * batch / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": p99 * 1000,
        "errors": errors[0],
    }


def main() -> int:
    """Run the grid and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--stores", default="sqlite,postgresql")
    ap.add_argument("--batches", default="1,50,500")
    ap.add_argument("--concurrency", default="1,2,4,8")
    ap.add_argument("--workers", type=int, default=0, help="router processes (default: the router's own)")
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    print(
        f"{'store':<11}{'alerts/req':>11}{'clients':>8}{'requests':>9}{'alerts/s':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'errors':>7}"
    )
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="router-bench-") as tmp:
            server = None
            if store == "postgresql":
                server = PostgresServer().start()
                server.execute("CREATE DATABASE bench")
                url = server.url("bench")
            else:
                url = f"sqlite:///{tmp}/router.db"
            router = Router(url, Path(tmp), args.workers, args.threads)
            try:
                for batch in map(int, args.batches.split(",")):
                    for conc in map(int, args.concurrency.split(",")):
                        r = run_cell(router.port, batch, conc, args.seconds)
                        print(
                            f"{store:<11}{batch:>11}{conc:>8}{r['requests']:>9}{r['alerts_per_s']:>10.0f}"
                            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>7}",
                            flush=True,
                        )
            finally:
                router.stop()
                if server is not None:
                    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scrape a fleet of simulated 48-port switches every 60 s and print the exporter's CPU share and memory.

One net-snmp snmpd in a network namespace with 48 veth interfaces (plus lo and the uplink) answers on one UDP
port per simulated switch, so each switch is a distinct target to the exporter. A client spreads the scrapes
of ``if_mib`` over each interval, as Prometheus does, and the bench reports the exporter process' CPU share of
one core, its resident memory (now and peak), scrape durations and failures.

    sudo .venv/bin/python bench/snmp_fleet.py [--switches 500] [--interval 60] [--rounds 2] [--snmp v2c|v3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.snmp_vs_snmp_exporter import V3_USER, cpu_seconds, fetch, server  # noqa: E402
from demo.servers.process import free_port  # noqa: E402
from demo.servers.snmpd import V3_USERS, netns_with_interfaces, snmpd  # noqa: E402

BASE_PORT = 20000


def memory_kib(pid: int) -> tuple[int, int]:
    """Return the resident and peak resident memory of a process in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def scrape(url: str, durations: list[float], failures: list[str], lock: threading.Lock) -> None:
    """Scrape once and record the duration, or the failure."""
    start = time.perf_counter()
    try:
        body = fetch(url).decode()
    except OSError as exc:
        with lock:
            failures.append(type(exc).__name__)
        return
    with lock:
        durations.append(time.perf_counter() - start)
        if 'hospmon_probe_success{module="if_mib"} 1.0' not in body:
            failures.append("probe failed")


def main() -> int:
    """Run the fleet bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=500)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--snmp", choices=["v2c", "v3"], default="v2c", help="v3: authPriv with SHA and AES-128"
    )
    args = parser.parse_args()
    port = free_port()
    _, auth_proto, auth_pass, priv_proto, priv_pass = V3_USERS[V3_USER]
    os.environ["HM_BENCH_AUTH"], os.environ["HM_BENCH_PRIV"] = str(auth_pass), str(priv_pass)
    config = Path(tempfile.mkdtemp(prefix="hm-fleet-")) / "network.yml"
    config.write_text(yaml.safe_dump({"auths": {
        "v2c": {"version": 2, "community": "public"},
        "v3": {"version": 3, "username": V3_USER, "security_level": "authPriv",
               "auth_protocol": auth_proto, "password_env": "HM_BENCH_AUTH",
               "priv_protocol": priv_proto, "priv_password_env": "HM_BENCH_PRIV"},
    }}))  # fmt: skip
    cmd = [
        sys.executable, "-m", "exporters.network.main", f"--web.listen-address=127.0.0.1:{port}",
        f"--config.file={config}", "--log.level=error",
    ]  # fmt: skip
    os.environ["PYTHONPATH"] = str(REPO) + (
        ":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""
    )
    ports = [BASE_PORT + i for i in range(args.switches)]
    durations: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    with (
        netns_with_interfaces(24) as (ns, address),
        snmpd(address, netns=ns, more_ports=ports) as agent,
        server(cmd, f"http://127.0.0.1:{port}/-/healthy") as proc,
        ThreadPoolExecutor(64) as pool,
    ):
        urls = [
            f"http://127.0.0.1:{port}/probe?target={agent.host}:{p}&module=if_mib&auth={args.snmp}"
            for p in ports
        ]
        warm = fetch(urls[0]).decode()  # warm up: imports, first allocations
        series = sum(1 for line in warm.splitlines() if line.startswith("hospmon_snmp_"))
        cpu0, start = cpu_seconds(proc.pid), time.monotonic()
        pending: list[Future[None]] = []
        for r in range(args.rounds):
            for i, url in enumerate(urls):
                due = start + r * args.interval + i * args.interval / len(urls)
                time.sleep(max(0.0, due - time.monotonic()))
                pending.append(pool.submit(scrape, url, durations, failures, lock))
        time.sleep(max(0.0, start + args.rounds * args.interval - time.monotonic()))
        for f in pending:
            f.result()
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(proc.pid) - cpu0
        rss, peak = memory_kib(proc.pid)
    print(
        f"{args.switches} simulated 48-port switches (50 interfaces, {series} series each) over SNMP "
        f"{args.snmp}, if_mib every {args.interval:.0f} s, {args.rounds} rounds, {len(durations)} scrapes, "
        f"{len(failures)} failed"
    )
    print(
        f"exporter CPU: {cpu:.1f} s in {elapsed:.0f} s = {100 * cpu / elapsed:.1f}% of one core "
        f"({1000 * cpu / max(1, len(durations)):.1f} ms per scrape)"
    )
    print(f"exporter memory: resident {rss / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB")
    if durations:
        q = statistics.quantiles(durations, n=100)
        print(
            f"scrape duration: median {1000 * statistics.median(durations):.0f} ms, p99 {1000 * q[98]:.0f} ms"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

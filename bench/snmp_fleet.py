"""A fleet of 48-port switches scraped 16 at a time, in turns, by snmp_exporter 0.21 and hospmon.

One net-snmp snmpd in a network namespace with 48 veth interfaces (plus lo and the uplink; needs root)
answers on one UDP port per simulated switch, so each switch is a distinct target. A turn scrapes every
switch's ``if_mib`` once through one exporter, `--concurrency` scrapes in flight (as Prometheus runs them);
turns alternate snmp_exporter, hospmon, ... for `--rounds` rounds. Per figure: the turn's wall time, the
exporter's CPU for the turn (10 ms ticks over seconds of CPU), the median scrape, and RSS after the turn.
Every scrape must succeed and both exporters must emit the same series per switch.

    sudo .venv/bin/python bench/snmp_fleet.py [--switches 200] [--concurrency 16] [--rounds 5] [--snmp v2c|v3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Measure, Report, alternate, cpu_seconds, rss_mib  # noqa: E402
from bench.servers import fetch  # noqa: E402
from bench.snmp_agent import agent  # noqa: E402
from bench.snmp_peer import device_series, exporters, snmpwalk_ok, urls  # noqa: E402


def turn(pid: int, targets: list[str], concurrency: int, peer: bool, report: Report) -> Callable[[], Measure]:
    """Return one turn: every switch scraped once, `concurrency` at a time."""
    name = "snmp_exporter" if peer else "hospmon"

    def scrape(url: str) -> float:
        start = time.perf_counter()
        try:
            body = fetch(url)
        except OSError as exc:
            report.fail(f"{name}: {url}: {exc}")
            return time.perf_counter() - start
        if not device_series(body, peer):
            report.fail(f"{name}: {url}: no series")
        return time.perf_counter() - start

    def run() -> Measure:
        with ThreadPoolExecutor(concurrency) as pool:
            cpu0, start = cpu_seconds(pid), time.perf_counter()
            durations = list(pool.map(scrape, targets))
            wall = time.perf_counter() - start
            cpu = cpu_seconds(pid) - cpu0
        return {
            "wall": wall,
            "cpu": cpu,
            "scrape_ms": statistics.median(durations) * 1000,
            "rss": rss_mib(pid),
        }

    return run


def main() -> int:
    """Run the fleet turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--snmp", choices=["v2c", "v3"], default="v2c", help="v3: authPriv with SHA and AES")
    args = parser.parse_args()
    snmpwalk_ok()
    v3 = args.snmp == "v3"
    report = Report(
        f"SNMP fleet: {args.switches} x 48-port switches, {args.concurrency} scrapes in flight",
        "snmp_exporter",
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        agent(24, devices=args.switches) as snmpd,
        exporters(Path(tmp), [snmpd.target(i) for i in range(args.switches)], v3_auth=v3) as procs,
    ):
        (tpid, tport), (opid, oport) = procs["snmp_exporter"], procs["hospmon"]
        theirs = [urls(tport, True, snmpd.target(i), v3) for i in range(args.switches)]
        ours = [urls(oport, False, snmpd.target(i), v3) for i in range(args.switches)]
        series = (len(device_series(fetch(theirs[0]), True)), len(device_series(fetch(ours[0]), False)))
        report.header(
            agent=f"snmpd with 50 interfaces on {args.switches} UDP ports, SNMP {args.snmp}",
            series=f"per switch: snmp_exporter {series[0]}, hospmon {series[1]}",
            warmup="one turn each before the rounds",
        )
        report.same("series per switch", *series)
        turns = [
            ("snmp_exporter", turn(tpid, theirs, args.concurrency, True, report)),
            ("hospmon", turn(opid, ours, args.concurrency, False, report)),
        ]
        for _, run in turns:
            run()  # warm-up: imports, first allocations, decoded-name caches
        results = alternate(turns, args.rounds)
        peer, mine = results["snmp_exporter"], results["hospmon"]
        report.figure("fleet wall per turn, s", peer["wall"], mine["wall"], digits=2)
        report.figure("exporter CPU per turn, s", peer["cpu"], mine["cpu"], digits=2)
        report.figure("median scrape, ms", peer["scrape_ms"], mine["scrape_ms"])
        report.figure("RSS after the turn, MiB", peer["rss"], mine["rss"])
        scrapes = (args.rounds + 1) * args.switches
        report.note(f"each exporter ran {scrapes} scrapes; CPU per scrape = CPU per turn / {args.switches}")
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())

"""One big agent, scraped in turns by Debian's snmp_exporter 0.21 and hospmon-network-exporter.

snmpd runs in a network namespace with 242 interfaces (120 veth pairs; needs root). Both exporters
walk ifTable and ifXTable with GETBULK (max-repetitions 25) and emit the same series (snmp_exporter's
module is generated from ours, see bench/snmp_peer.py). A turn is `--scrapes` scrapes one after the other;
turns alternate snmp_exporter, hospmon, snmp_exporter, ... for `--rounds` rounds, over SNMP v2c and over
SNMPv3 authPriv. Per figure: wall time per scrape (the turn's median), CPU per scrape (the turn's CPU /
scrapes, so the resolution is 10 ms / scrapes), and the exporters' RSS after each turn; at the end both
must report the same counter values and the same number of series.

    sudo .venv/bin/python bench/snmp_vs_snmp_exporter.py [--rounds 5] [--scrapes 10] [--pairs 120]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Report, alternate, rss_mib, scrape_turn  # noqa: E402
from bench.servers import fetch  # noqa: E402
from bench.snmp_agent import agent  # noqa: E402
from bench.snmp_peer import counters, device_series, exporters, snmpwalk_ok, urls  # noqa: E402

WARMUP = 3


def answered(peer: bool) -> Callable[[bytes], str | None]:
    """Return a check that a scrape brought the device's series."""
    return lambda body: None if device_series(body, peer) else "no series from the device"


def main() -> int:
    """Run both versions' comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=10, help="scrapes per turn")
    parser.add_argument("--pairs", type=int, default=120, help="veth pairs (interfaces = 2 x pairs + 2)")
    args = parser.parse_args()
    snmpwalk_ok()
    report = Report(
        "SNMP if_mib, one agent: snmp_exporter 0.21 and hospmon-network-exporter", "snmp_exporter"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        agent(args.pairs) as snmpd,
        exporters(Path(tmp), [snmpd.target()]) as procs,
    ):
        (tpid, tport), (opid, oport) = procs["snmp_exporter"], procs["hospmon"]
        bodies: dict[tuple[str, bool], bytes] = {}
        for v3 in (False, True):
            for name, _pid, port in (("snmp_exporter", tpid, tport), ("hospmon", opid, oport)):
                url = urls(port, name == "snmp_exporter", snmpd.target(), v3)
                for _ in range(WARMUP):
                    bodies[(name, v3)] = fetch(url)
        series = {k: len(device_series(b, k[0] == "snmp_exporter")) for k, b in bodies.items()}
        report.header(
            agent=f"snmpd with {2 * args.pairs + 2} interfaces",
            work=f"{args.scrapes} scrapes per turn, {WARMUP} warm-up scrapes each first",
            series=f"snmp_exporter {series[('snmp_exporter', False)]}, hospmon {series[('hospmon', False)]}",
        )
        report.same("device series per scrape", series[("snmp_exporter", False)], series[("hospmon", False)])
        done = WARMUP * 2

        def turl(v3: bool) -> str:
            return urls(tport, True, snmpd.target(), v3)

        def ourl(v3: bool) -> str:
            return urls(oport, False, snmpd.target(), v3)

        for v3, label in ((False, "v2c"), (True, "v3 authPriv SHA/AES")):
            results = alternate(
                [
                    ("snmp_exporter", scrape_turn(tpid, turl(v3), args.scrapes, answered(True), report)),
                    ("hospmon", scrape_turn(opid, ourl(v3), args.scrapes, answered(False), report)),
                ],
                args.rounds,
            )
            done += args.rounds * args.scrapes
            peer, ours = results["snmp_exporter"], results["hospmon"]
            report.figure(f"{label}: wall per scrape, ms", peer["wall_ms"], ours["wall_ms"])
            report.figure(f"{label}: CPU per scrape, ms", peer["cpu_ms"], ours["cpu_ms"])
            report.figure(f"{label}: RSS after the turn, MiB", peer["rss"], ours["rss"])
        report.note(
            f"CPU resolution per scrape: {10 / args.scrapes:.1f} ms; each exporter ran {done} scrapes"
        )
        report.note(
            f"RSS after {done} scrapes: snmp_exporter {rss_mib(tpid):.1f} MiB, "
            f"hospmon {rss_mib(opid):.1f} MiB"
        )
        # back-to-back scrapes: the veth counters stand still, only the uplink (left out) carries SNMP
        for v3 in (False, True):
            theirs = counters(fetch(urls(tport, True, snmpd.target(), v3)), peer=True)
            ours_now = counters(fetch(urls(oport, False, snmpd.target(), v3)), peer=False)
            report.same(
                f"counter values ({'v3' if v3 else 'v2c'}, {len(ours_now)} compared)", theirs, ours_now
            )
            if not ours_now:
                report.fail("no counters compared")
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())

"""A probe answer in the text format, in turns: prometheus_client's generate_latest and our encoder.

The answer is the shape of a 48-port switch's ``if_mib`` (50 interfaces; counters, gauges and state sets
labelled ifIndex, ifName, ifAlias, ifDescr: 1,350 samples), with Chinese aliases and a few values that need
escaping. A turn writes it `--writes` times; turns alternate the library and ours for `--rounds` rounds.
CPU from getrusage of this process (`time.process_time`). Both must write the same bytes.

    .venv/bin/python bench/exposition.py [--rounds 5] [--writes 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from prometheus_client.exposition import generate_latest  # noqa: E402
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric  # noqa: E402

from bench.harness import Measure, Report, alternate  # noqa: E402
from exporters.core import exposition  # noqa: E402

LABELS = ["ifIndex", "ifName", "ifAlias", "ifDescr"]
STATES = ("up", "down", "testing", "unknown", "dormant", "notPresent", "lowerLayerDown")


def switch_answer() -> list[Metric]:
    """Build the families of one 48-port switch's if_mib answer."""
    families: list[Metric] = []
    rows = [[str(i), f"GigabitEthernet0/0/{i}", f"住院楼 {i % 9}F 护士站" if i % 3 else f'to "agg-{i}"',
             f"Huawei GE0/0/{i}"] for i in range(1, 51)]  # fmt: skip
    for n in range(20):
        counter = CounterMetricFamily(f"hospmon_snmp_if_counter{n}", f"Counter {n}.", labels=LABELS)
        for row in rows:
            counter.add_metric(row, float(n * 1_000_003 + int(row[0])))
        families.append(counter)
    for n in range(5):
        gauge = GaugeMetricFamily(f"hospmon_snmp_if_gauge{n}", f"Gauge {n}.", labels=LABELS)
        for row in rows:
            gauge.add_metric(row, 1e9 / (n + 1))
        families.append(gauge)
    status = GaugeMetricFamily("hospmon_snmp_if_oper_status", "ifOperStatus.", labels=[*LABELS, "state"])
    for row in rows:
        for state in STATES[:2]:
            status.add_metric([*row, state], 1.0 if state == "up" else 0.0)
    return [*families, status]


def turn(write: Callable[[], bytes], writes: int) -> Callable[[], Measure]:
    """Return a turn of `writes` writes, measured in CPU per write."""

    def run() -> Measure:
        cpu = time.process_time()
        for _ in range(writes):
            write()
        return {"cpu_ms": (time.process_time() - cpu) / writes * 1000}

    return run


def main() -> int:
    """Write the answer both ways in turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    families = switch_answer()
    registry = SimpleNamespace(collect=lambda: families)  # all generate_latest asks of a registry
    samples = sum(len(f.samples) for f in families)
    report = Report("Text exposition of a 48-port switch's answer", "prometheus_client")
    report.header(
        answer=f"{len(families)} families, {samples} samples", work=f"{args.writes} writes per turn"
    )
    report.same("bytes written", generate_latest(registry), exposition.render(families))
    results = alternate(
        [("library", turn(lambda: generate_latest(registry), args.writes)),
         ("ours", turn(lambda: exposition.render(families) or b"", args.writes))],
        args.rounds,
    )  # fmt: skip
    report.figure("CPU per answer, ms", results["library"]["cpu_ms"], results["ours"]["cpu_ms"], digits=2)
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())

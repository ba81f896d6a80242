"""DICOM C-ECHO, in turns: dcmtk's echoscu and hospmon's C-ECHO probe against the same dcmtk storescp.

storescp (dcmtk 3.6.7 has no option to bind one address) listens on a free port. Both clients run with
TCP_NODELAY: ours sets it on its socket, echoscu and storescp get ``TCP_NODELAY=1`` (Debian's dcmtk keeps
Nagle on unless told, which adds a delayed ACK of ~40 ms to every exchange whoever the client is).

A turn is `--echoes` C-ECHOs one after the other (TCP connect, association, C-ECHO, release): echoscu as a
new process each time, as a monitoring script would run it; ours in-process, as the exporter runs it. So
that process start is not counted against echoscu, a turn also runs ``echoscu --version`` as many times
and the printout gives echoscu's start apart and echoscu less its start. CPU: ours from getrusage of this
process (microseconds), echoscu's from getrusage of the reaped children. Turns alternate echoscu, hospmon.

    .venv/bin/python bench/dicom_echo.py [--rounds 5] [--echoes 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Measure, Report, alternate, children_cpu_seconds  # noqa: E402
from bench.servers import free_port, process, tcp_ok  # noqa: E402
from exporters.core.probe import Deadline, ProbeFailed  # noqa: E402
from exporters.pacs.echo import c_echo  # noqa: E402

CALLED_AE = "BENCH_SCP"
NODELAY = {**os.environ, "TCP_NODELAY": "1"}


def echoscu_turn(echoscu: str, port: int, echoes: int, report: Report) -> Callable[[], Measure]:
    """Return a turn of `echoes` echoscu runs, plus as many bare process starts."""
    argv = [echoscu, "-aet", "HOSPMON", "-aec", CALLED_AE, "127.0.0.1", str(port)]

    def run() -> Measure:
        walls, starts = [], []
        cpu0 = children_cpu_seconds()
        for _ in range(echoes):
            t0 = time.perf_counter()
            if subprocess.run(argv, env=NODELAY, capture_output=True, check=False).returncode != 0:
                report.fail("echoscu: C-ECHO failed")
            walls.append(time.perf_counter() - t0)
        cpu = children_cpu_seconds() - cpu0
        for _ in range(echoes):
            t0 = time.perf_counter()
            subprocess.run([echoscu, "--version"], env=NODELAY, capture_output=True, check=True)
            starts.append(time.perf_counter() - t0)
        wall, start = statistics.median(walls), statistics.median(starts)
        return {"wall": wall * 1000, "start": start * 1000, "net": (wall - start) * 1000,
                "cpu": cpu / echoes * 1000}  # fmt: skip

    return run


def ours_turn(port: int, echoes: int, report: Report) -> Callable[[], Measure]:
    """Return a turn of `echoes` in-process C-ECHO probes."""

    def run() -> Measure:
        walls = []
        cpu0 = time.process_time()
        for _ in range(echoes):
            t0 = time.perf_counter()
            try:
                c_echo("127.0.0.1", port, "HOSPMON", CALLED_AE, 10, Deadline.after(10))
            except ProbeFailed as exc:
                report.fail(f"hospmon: C-ECHO failed: {exc}")
            walls.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
        wall = statistics.median(walls) * 1000
        return {"wall": wall, "start": 0.0, "net": wall, "cpu": cpu / echoes * 1000}

    return run


def main() -> int:
    """Start storescp, run the turns and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--echoes", type=int, default=20, help="C-ECHOs per turn")
    args = parser.parse_args()
    storescp, echoscu = shutil.which("storescp"), shutil.which("echoscu")
    if not storescp or not echoscu:
        raise SystemExit("storescp and echoscu are missing: apt-get install dcmtk")
    report = Report("DICOM C-ECHO to dcmtk storescp", "echoscu")
    port = free_port()
    with tempfile.TemporaryDirectory() as out:
        argv = [storescp, "-aet", CALLED_AE, "-od", out, str(port)]
        with process(argv, lambda: tcp_ok(port), Path(out) / "storescp.log", env={"TCP_NODELAY": "1"}):
            report.header(
                work=f"{args.echoes} C-ECHOs per turn; TCP_NODELAY on both clients and on storescp",
                clients="echoscu: new process per C-ECHO (start measured apart); hospmon: in-process",
            )
            turns = [
                ("echoscu", echoscu_turn(echoscu, port, args.echoes, report)),
                ("hospmon", ours_turn(port, args.echoes, report)),
            ]
            for _, turn in turns:
                turn()  # warm-up: page cache, imports
            results = alternate(turns, args.rounds)
    peer, mine = results["echoscu"], results["hospmon"]
    report.figure("C-ECHO wall, whole client, ms", peer["wall"], mine["wall"], digits=2)
    report.figure("C-ECHO wall less process start, ms", peer["net"], mine["net"], digits=2)
    report.figure("client CPU per C-ECHO, ms", peer["cpu"], mine["cpu"], digits=2)
    report.note(
        f"echoscu process start (echoscu --version): {statistics.median(peer['start']):.2f} ms median"
    )
    return report.done()


if __name__ == "__main__":
    raise SystemExit(main())

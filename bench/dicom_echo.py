"""Time hospmon's C-ECHO probe and dcmtk's echoscu against the same dcmtk storescp.

storescp (dcmtk 3.6.7 has no option to bind one address) listens on a free port; each side runs `--runs`
C-ECHOs one after the other. The bench prints the median wall time of a whole probe for each (ours in-process:
TCP check, association, C-ECHO, release; echoscu: the same as a new process, so it includes process start)
and ours alone split into association and echo, then the ratio ours / echoscu.

storescp runs with ``TCP_NODELAY=1``: Debian's dcmtk keeps Nagle's algorithm on by default, which with the
client's delayed ACKs adds about 40 ms to every C-ECHO response whoever the client is, hiding the difference.

    .venv/bin/python bench/dicom_echo.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.servers.process import free_port  # noqa: E402
from exporters.core.probe import Deadline  # noqa: E402
from exporters.pacs.echo import c_echo  # noqa: E402

CALLED_AE = "BENCH_SCP"


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"storescp exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("storescp did not listen within 10 s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    storescp, echoscu = shutil.which("storescp"), shutil.which("echoscu")
    if not storescp or not echoscu:
        raise SystemExit("storescp and echoscu are missing: apt-get install dcmtk")
    port = free_port()
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.Popen(
            [storescp, "-aet", CALLED_AE, "-od", out, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TCP_NODELAY": "1"},
        )
        try:
            wait_listening(port, proc)
            ours, assoc, echo, theirs = [], [], [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                result = c_echo("127.0.0.1", port, "HOSPMON", CALLED_AE, 10, Deadline.after(10))
                ours.append(time.perf_counter() - start)
                assoc.append(result.association_seconds)
                echo.append(result.echo_seconds)
                start = time.perf_counter()
                subprocess.run(
                    [echoscu, "-aet", "HOSPMON", "-aec", CALLED_AE, "127.0.0.1", str(port)], check=True
                )
                theirs.append(time.perf_counter() - start)
        finally:
            proc.terminate()
            proc.wait(10)
    median = statistics.median
    print(f"runs each: {args.runs}")
    print(f"hospmon c_echo   median {median(ours) * 1000:8.2f} ms (whole probe, in-process)")
    print(f"  association    median {median(assoc) * 1000:8.2f} ms")
    print(f"  C-ECHO         median {median(echo) * 1000:8.2f} ms")
    print(f"dcmtk echoscu    median {median(theirs) * 1000:8.2f} ms (new process each)")
    print(f"ratio hospmon / echoscu: {median(ours) / median(theirs):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

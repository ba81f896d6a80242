"""Receive the same SNMPv2c trap bursts with hospmon-event-receiver and with net-snmp's snmptrapd.

Three peers: snmptrapd, hospmon (v2c traps through its BER fast path) and hm-pysnmp (the receiver with
``snmp.decoder: pysnmp``: every trap decoded by pysnmp, the library the fast path stands in for).
Each turn sends N linkDown traps (every one for a different port, so each must become its own alert) at a
fixed offered rate from one socket on loopback. snmptrapd logs each trap as one line to a file; the
receiver decodes each, maps it by the shipped rules and must deliver it to a real Alertmanager as an
alert. Turns rotate which peer goes first, on the same pre-encoded messages; each turn gets a fresh process
(and, for the receiver, a fresh Alertmanager), started before the clock runs.

Per peer and offered rate the bench prints, as median [min-max] over the turns:
- received: traps snmptrapd logged / the receiver decoded; at the end: log lines / alerts in Alertmanager;
- lost: N minus what reached the end;
- received/s: traps received per second, from the first send to the last one received;
- events/s: what reached the end per second, from the first send to the last arrival (log line, alert);
- RSS: the receiving process' VmRSS in MiB once the burst has been received (the receiver's, without the
  Alertmanager it posts to).

    .venv/bin/python bench/events_vs_snmptrapd.py [--traps 3000] [--rates 1000,20000] [--turns 5]
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
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import Report, load_average, rss_mib  # noqa: E402
from demo.senders import link_trap  # noqa: E402
from demo.servers.process import free_port, http_ready, running, terminate  # noqa: E402
from demo.servers.snmpd import free_udp_port  # noqa: E402

COMMUNITY = "bench-community"
CI = "agg-sw-inpatient"
Turn = tuple[int, int, float, float, float]  # received, at the end, seconds to receive, to the end; RSS


def get(url: str) -> bytes:
    """GET a URL on loopback."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: bytes = resp.read()
        return body


def metric(url: str, name: str) -> int:
    """Return the value of the sample `name` (with its labels) on a /metrics page, 0 when absent."""
    for line in get(url).decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[-1]))
    return 0


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds."""
    until = time.monotonic() + timeout
    while not check():
        if time.monotonic() > until:
            raise TimeoutError(what)
        time.sleep(0.05)


def send(messages: list[bytes], port: int, rate: float) -> float:
    """Send every message at `rate` per second in 10 ms slices; return when the first was sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    per_slice = max(1, round(rate / 100))
    start = time.monotonic()
    for i in range(0, len(messages), per_slice):
        for message in messages[i : i + per_slice]:
            sock.sendto(message, ("127.0.0.1", port))
        pause = start + (i + per_slice) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    sock.close()
    return start


def settle(count: Callable[[], int], total: int, quiet: float, timeout: float = 300.0) -> tuple[int, float]:
    """Wait until `count` reaches `total` or stops growing for `quiet` s; return it and when it last grew."""
    last, last_at = -1, time.monotonic()
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        now = count()
        if now != last:
            last, last_at = now, time.monotonic()
        if now >= total or time.monotonic() - last_at > quiet:
            return now, last_at
        time.sleep(0.02)
    return last, last_at


def snmptrapd_turn(messages: list[bytes], rate: float, work: Path) -> Turn:
    """Run one snmptrapd turn: it logs one line per trap to a file."""
    binary = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"
    if not Path(binary).exists():
        raise SystemExit("snmptrapd is not installed: apt-get install snmptrapd (make deps installs it)")
    port = free_udp_port()
    log = work / "snmptrapd.log"
    log.unlink(missing_ok=True)
    conf = work / "snmptrapd.conf"
    conf.write_text(f"authCommunity log {COMMUNITY}\nformat2 TRAP %a %v\\n\n")
    argv = [binary, "-f", "-n", "-C", "-c", str(conf), "-Lf", str(log), "-p", str(work / "pid")]
    with (work / "snmptrapd.out").open("wb") as out:
        proc = subprocess.Popen(
            [*argv, f"udp:127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT, cwd=work
        )
    try:
        wait_until(
            lambda: log.exists() and "NET-SNMP version" in log.read_text(errors="replace"), 30, "snmptrapd"
        )

        def lines() -> int:
            return sum(1 for line in log.read_text(errors="replace").splitlines() if line.startswith("TRAP"))

        start = send(messages, port, rate)
        got, end = settle(lines, len(messages), quiet=3.0)
        rss = rss_mib(proc.pid)
    finally:
        terminate(proc)
    return got, got, end - start, end - start, rss


def hospmon_turn(messages: list[bytes], rate: float, work: Path, decoder: str = "fast") -> Turn:
    """Run one receiver turn with a fresh Alertmanager: decoded traps, and alerts Alertmanager holds."""
    am_port, web_port, trap_port = free_port(), free_port(), free_udp_port()
    shutil.rmtree(work / "am", ignore_errors=True)
    shutil.rmtree(work / "queue", ignore_errors=True)
    (work / "am.yml").write_text('route: {receiver: "null"}\nreceivers: [{name: "null"}]\n')
    (work / "community").write_text(COMMUNITY + "\n")
    config = {
        "inventory": str(REPO / "demo" / "inventory"),
        "rules": [str(REPO / "rules" / "events")],
        "snmp": {
            "listen": f"127.0.0.1:{trap_port}",
            "communities": [{"name": "bench", "community_file": "community"}],
            "decoder": decoder,
        },
        "syslog": {"udp": "", "tcp": ""},
        "alertmanager": {"urls": [f"http://127.0.0.1:{am_port}"], "resend_seconds": 3600},
        "queue": {"directory": str(work / "queue")},
        "sources": [{"address": "127.0.0.1", "ci": CI}],
        "defaults": {"rate_limit": {"events": 1_000_000, "seconds": 1}},
    }
    (work / "events.yml").write_text(yaml.safe_dump(config))
    am = ["prometheus-alertmanager", "--config.file=am.yml", f"--storage.path={work / 'am'}"]
    am += [f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="]
    receiver = [sys.executable, "-m", "exporters.events.main", "--config.file=events.yml"]
    receiver += [f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"]
    with (
        running(am, http_ready(f"http://127.0.0.1:{am_port}/-/ready"), work / "am.log", cwd=work),
        running(
            receiver, http_ready(f"http://127.0.0.1:{web_port}/-/healthy"), work / "receiver.log", cwd=work
        ) as proc,
    ):

        def alerts() -> int:  # each alert is posted once (no refresh within the turn), so this counts them
            sample = 'alertmanager_alerts_received_total{status="firing",version="v2"}'
            return metric(f"http://127.0.0.1:{am_port}/metrics", sample)

        def decoded() -> int:
            return metric(
                f"http://127.0.0.1:{web_port}/metrics", 'hospmon_events_received_total{source="trap"}'
            )

        start = send(messages, trap_port, rate)
        received, received_at = settle(decoded, len(messages), quiet=5.0)
        delivered, end = settle(alerts, len(messages), quiet=5.0)
        rss = rss_mib(proc.pid)
    return received, delivered, received_at - start, end - start, rss


def spread(values: list[float]) -> str:
    """Return 'median [min-max]' without decimals."""
    return f"{statistics.median(values):.0f} [{min(values):.0f}-{max(values):.0f}]"


def main() -> int:
    """Run the turns and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traps", type=int, default=3000)
    parser.add_argument("--rates", default="1000,20000")
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()
    Report("SNMPv2c trap bursts: snmptrapd, hospmon-event-receiver", "snmptrapd").header()
    messages = [link_trap(COMMUNITY, i + 1, i + 1, up=False) for i in range(args.traps)]
    rates = [float(r) for r in args.rates.split(",")]
    peers: dict[str, Callable[[list[bytes], float, Path], Turn]] = {
        "snmptrapd": snmptrapd_turn,
        "hospmon": hospmon_turn,
        "hm-pysnmp": lambda m, r, w: hospmon_turn(m, r, w, "pysnmp"),
    }
    order = list(peers.items())
    results: dict[tuple[str, float], list[Turn]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        os.environ["PYTHONPATH"] = str(REPO)
        for rate in rates:
            for turn in range(args.turns):
                for name, run in order[turn % 3 :] + order[: turn % 3]:  # each peer leads some turns
                    results.setdefault((name, rate), []).append(run(messages, rate, Path(tmp)))
    print(f"{args.traps} SNMPv2c linkDown traps per turn, each for its own port; {args.turns} turns per rate")
    head = ("peer", "offered/s", "received", "at the end", "lost", "received/s", "events/s", "RSS MiB")
    print(f"{head[0]:<10}{head[1]:>10}" + "".join(f"{h:>20}" for h in head[2:]))
    for (name, rate), runs in results.items():
        columns = (
            [float(r[0]) for r in runs],
            [float(r[1]) for r in runs],
            [float(args.traps - r[1]) for r in runs],
            [r[0] / r[2] if r[2] > 0 else 0.0 for r in runs],
            [r[1] / r[3] if r[3] > 0 else 0.0 for r in runs],
            [r[4] for r in runs],
        )
        print(f"{name:<10}{rate:>10.0f}" + "".join(f"{spread(c):>20}" for c in columns))
    for rate in rates:
        speed = {name: statistics.median(r[1] / r[3] for r in results[(name, rate)]) for name in peers}
        ratio = {k: speed["hospmon"] / v if v else float("nan") for k, v in speed.items()}
        rss = {name: statistics.median(r[4] for r in results[(name, rate)]) for name in peers}
        print(
            f"offered {rate:.0f}/s, events/s: hospmon / snmptrapd = {ratio['snmptrapd']:.2f}, "
            f"hospmon / hm-pysnmp = {ratio['hm-pysnmp']:.2f}; RSS: hospmon {rss['hospmon']:.1f} MiB, "
            f"snmptrapd {rss['snmptrapd']:.1f} MiB, ratio {rss['hospmon'] / rss['snmptrapd']:.2f}"
        )
    print("at the end: snmptrapd's log lines; the receiver's alerts in Alertmanager (mapped, queued, posted)")
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The demo's event receiver (traps 19162/udp, syslog 19514, HTTP 19163) and the devices that send to it.

The receiver runs with ``deploy/events/events.yml`` (shared with docker-compose.yml), pointed at the run
folder's inventory and queue, plus the addresses the simulated devices send from. The devices play their
part of the morning a minute after the demo starts, and again every 20 minutes:

- the machine-room UPS ``ups-mr1-01`` loses mains: net-snmp's ``snmptrap`` sends RFC 1628
  ``upsTrapOnBattery`` once a minute for three minutes, then the UPS removes its on-battery alarm;
- port GigabitEthernet1/0/24 of the outpatient aggregation switch ``agg-sw-outpatient`` flaps twenty times
  in twenty seconds, logged over TCP syslog in H3C's words: one alert and one incident, not twenty.

Run alone: ``python -m hospmon.demoparts.events --run-dir run`` (the devices only).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from hospmon.demo import REPO, Part, console_script

WEB, TRAPS, SYSLOG = "127.0.0.1:19163", 19162, 19514
UPS_SOURCE, SWITCH_SOURCE = "127.0.1.71", "127.0.1.64"
SOURCES = [{"address": UPS_SOURCE, "ci": "ups-mr1-01"}, {"address": SWITCH_SOURCE, "ci": "agg-sw-outpatient"}]
FIRST_SECONDS, EVERY_SECONDS = 60.0, 1200.0
ON_BATTERY = "1.3.6.1.2.1.33.2.1"
ALARM_REMOVED = "1.3.6.1.2.1.33.2.4"
UPS_ALARM_ON_BATTERY = "1.3.6.1.2.1.33.1.6.3.2"


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write the receiver's config and return the receiver and the devices that send to it."""
    folder = run / "events"
    (folder / "secrets").mkdir(parents=True, exist_ok=True)
    community = folder / "secrets" / "trap-community"
    if not community.exists():
        community.write_text(secrets.token_urlsafe(16) + "\n", encoding="utf-8")
        community.chmod(0o600)
    config = yaml.safe_load((REPO / "deploy" / "events" / "events.yml").read_text(encoding="utf-8"))
    config.update(inventory=str(inventory), rules=[str(REPO / "rules" / "events")], sources=SOURCES)
    config["queue"]["directory"] = str(folder / "queue")
    path = folder / "events.yml"
    header = "# Written by hospmon demo from deploy/events/events.yml; see docs/events.md.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    started = folder / "devices.started"
    started.unlink(missing_ok=True)
    receiver = Part(
        name="event-receiver",
        argv=[
            console_script("hospmon-event-receiver"),
            f"--config.file={path}",
            f"--web.listen-address={WEB}",
        ],
        ready_url=f"http://{WEB}/-/healthy",
        shown_url=f"http://{WEB}/metrics (traps 127.0.0.1:{TRAPS}/udp, syslog 127.0.0.1:{SYSLOG})",
        cwd=folder,
    )
    devices = Part(
        name="event-devices",
        argv=[sys.executable, "-m", "hospmon.demoparts.events", f"--run-dir={run}"],
        ready_url="",
        shown_url="UPS on battery and a flapping switch port a minute from now, then every 20 minutes",
        ready=started.exists,
    )
    return [receiver, devices]


def ups_on_battery(community: str, minutes: int, stop: threading.Event, minute: float = 60.0) -> None:
    """Send upsTrapOnBattery each minute for `minutes`, then remove the on-battery alarm (mains is back)."""
    snmptrap = shutil.which("snmptrap") or "snmptrap"
    base = [snmptrap, f"--clientaddr={UPS_SOURCE}", "-v", "2c", "-c", community, f"127.0.0.1:{TRAPS}", ""]
    for n in range(minutes):
        left = str(25 - 4 * n)
        binds = ["1.3.6.1.2.1.33.1.2.3.0", "i", left, "1.3.6.1.2.1.33.1.2.2.0", "i", str(60 * n + 5)]
        subprocess.run([*base, ON_BATTERY, *binds], check=False, timeout=10)
        if stop.wait(minute):
            return
    removed = ["1.3.6.1.2.1.33.1.6.2.1.2.1", "o", UPS_ALARM_ON_BATTERY]
    subprocess.run([*base, ALARM_REMOVED, *removed], check=False, timeout=10)


def link_flap(times: int, stop: threading.Event, pause: float = 0.5) -> None:
    """Log a port going down and up `times` times, one line a second over TCP, ending up."""
    line = (
        "<188>{stamp} AGG-SW-OUTPATIENT %%10IFNET/3/PHY_UPDOWN: Physical state on the interface "
        "GigabitEthernet1/0/24 changed to {state}."
    )
    with socket.create_connection(
        ("127.0.0.1", SYSLOG), timeout=10, source_address=(SWITCH_SOURCE, 0)
    ) as sock:
        for i in range(2 * times):
            stamp = time.strftime("%b %d %H:%M:%S %Y")
            message = line.format(stamp=stamp, state="up" if i % 2 else "down").encode()
            sock.sendall(b"%d %s" % (len(message), message))
            if stop.wait(pause):
                return


def play(run: Path, stop: threading.Event) -> None:
    """Play the devices' script until `stop` is set."""
    community = (run / "events" / "secrets" / "trap-community").read_text(encoding="utf-8").strip()
    delay = FIRST_SECONDS
    while not stop.wait(delay):
        try:
            ups_on_battery(community, 3, stop)
            if not stop.wait(30):
                link_flap(20, stop)
        except OSError as exc:  # the receiver is restarting: the next round tries again
            print(f"event devices: {exc}", file=sys.stderr, flush=True)
        delay = EVERY_SECONDS


def main(argv: list[str] | None = None) -> int:
    """Run the simulated devices until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m hospmon.demoparts.events", description=__doc__)
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    (args.run_dir / "events" / "devices.started").write_text("started\n", encoding="utf-8")
    play(args.run_dir.resolve(), stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

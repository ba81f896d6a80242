"""The demo's event receiver (traps 19162/udp, syslog 19514, HTTP 19163) and the devices that send to it.

The receiver runs with ``deploy/events/events.yml`` (shared with docker-compose.yml), pointed at the run
folder's inventory and queue; its ``sources`` map the addresses the simulated devices send from. The
devices play their part of the scripted morning (demo/story.py) when it asks, through
``POST /-/demo/ups-on-battery`` and ``POST /-/demo/link-flap`` on 127.0.0.1:19164:

- the machine-room UPS ``ups-mr1-01`` loses mains: net-snmp's ``snmptrap`` sends RFC 1628
  ``upsTrapOnBattery`` once a minute for three minutes, then the UPS removes its on-battery alarm;
- port GigabitEthernet1/0/24 of the inpatient aggregation switch ``agg-sw-inpatient`` flaps twenty times
  in twenty seconds, logged over TCP syslog in H3C's words: one alert and one incident, not twenty.

Run alone: ``python -m demo.parts.events --run-dir run`` (the devices only).
"""

from __future__ import annotations

import argparse
import http.server
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from demo import ports
from demo.launcher import Part, console_script
from hospmon import paths

WEB, TRAPS, SYSLOG, CONTROL = 19163, 19162, 19514, 19164
UPS_SOURCE, SWITCH_SOURCE = "127.0.1.71", "127.0.1.64"
DEVICES = {UPS_SOURCE: "ups-mr1-01", SWITCH_SOURCE: "agg-sw-inpatient"}
"""Where each simulated device sends from, and the CI it plays: the shipped config's `sources` map them,
for this demo and docker-compose.yml's alike."""
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
    shipped = ports.shift_text((paths.deploy_dir() / "events" / "events.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load(shipped)
    config.update(inventory=str(inventory), rules=[str(paths.rules_dir() / "events")])
    config["queue"]["directory"] = str(folder / "queue")
    path = folder / "events.yml"
    header = "# Written by hospmon demo from deploy/events/events.yml; see docs/events.md.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    receiver = Part(
        name="event-receiver",
        argv=[
            console_script("hospmon-event-receiver"),
            f"--config.file={path}",
            f"--web.listen-address={ports.addr(WEB)}",
        ],
        ready_url=ports.url(WEB, "/-/healthy"),
        shown_url=f"{ports.url(WEB, '/metrics')} traps {ports.port(TRAPS)}/udp syslog {ports.port(SYSLOG)}",
        cwd=folder,
    )
    devices = Part(
        name="event-devices",
        argv=[sys.executable, "-m", "demo.parts.events", f"--run-dir={run}"],
        ready_url=ports.url(CONTROL, "/ready"),
        shown_url="a UPS on battery and a flapping switch port, when the scripted morning says",
    )
    return [receiver, devices]


def ups_on_battery(community: str, minutes: int, stop: threading.Event, minute: float = 60.0) -> None:
    """Send upsTrapOnBattery each minute for `minutes`, then remove the on-battery alarm (mains is back)."""
    snmptrap = shutil.which("snmptrap") or "snmptrap"
    base = [snmptrap, f"--clientaddr={UPS_SOURCE}", "-v", "2c", "-c", community, ports.addr(TRAPS), ""]
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
        "<188>{stamp} AGG-SW-INPATIENT %%10IFNET/3/PHY_UPDOWN: Physical state on the interface "
        "GigabitEthernet1/0/24 changed to {state}."
    )
    with socket.create_connection(
        ("127.0.0.1", ports.port(SYSLOG)), timeout=10, source_address=(SWITCH_SOURCE, 0)
    ) as sock:
        for i in range(2 * times):
            stamp = time.strftime("%b %d %H:%M:%S %Y")
            message = line.format(stamp=stamp, state="up" if i % 2 else "down").encode()
            sock.sendall(b"%d %s" % (len(message), message))
            if stop.wait(pause):
                return


def serve(run: Path, stop: threading.Event) -> http.server.ThreadingHTTPServer:
    """Answer the scripted morning's ``POST /-/demo/ups-on-battery`` and ``/-/demo/link-flap`` (and
    ``GET /ready``) on 127.0.0.1:19164; each plays in its own thread until done or `stop`."""

    def community() -> str:
        # Read when played: docker-compose.yml's simulated hospital adopts the receiver's after start-up.
        return (run / "events" / "secrets" / "trap-community").read_text(encoding="utf-8").strip()

    actions: dict[str, Callable[[], None]] = {
        "/-/demo/ups-on-battery": lambda: ups_on_battery(community(), 3, stop),
        "/-/demo/link-flap": lambda: link_flap(20, stop),
    }

    def play(action: Callable[[], None]) -> None:
        try:
            action()
        except OSError as exc:  # the receiver is restarting: the morning goes on without this event
            print(f"event devices: {exc}", file=sys.stderr, flush=True)

    class Control(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, text: str) -> None:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(text.encode() + b"\n")

        def do_GET(self) -> None:
            self._answer(
                200 if self.path == "/ready" else 404, "ready" if self.path == "/ready" else "unknown"
            )

        def do_POST(self) -> None:
            action = actions.get(self.path)
            if action is None:
                self._answer(404, "unknown demo action")
                return
            threading.Thread(target=play, args=(action,), name=self.path, daemon=True).start()
            self._answer(200, f"playing {self.path.rsplit('/', 1)[-1]}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", ports.port(CONTROL)), Control)
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Run the simulated devices until SIGTERM, playing what the scripted morning asks."""
    parser = argparse.ArgumentParser(prog="python -m demo.parts.events", description=__doc__)
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = serve(args.run_dir.resolve(), stop)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

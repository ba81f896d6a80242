"""The demo's simulated interface engine: ``python -m demo.integration.engine --listen 127.0.0.1:18090``.

It speaks the part of Mirth Connect's REST API the middleware exporter reads (HTTP basic auth, JSON as
Mirth's XStream writes it) and, for the exporter's ``engine_json`` module, a plainer JSON status page of the
same channels, as a domestic ESB would serve it:

- ``GET /api/channels/statuses``, ``GET /api/server/version``,
  ``GET /api/channels/{id}/messages?limit=1&includeContent=false`` (the newest message's date, no content);
- ``GET /esb/api/v1/channels``.

Messages flow through the hospital's interfaces all day (more in clinic hours). To watch the alerts, stop a
channel, take the system behind it down so its queue grows, or silence the system that sends to it::

    curl -X POST http://127.0.0.1:18090/-/demo/channels/lis-results-to-his/stop     # .../start
    curl -X POST http://127.0.0.1:18090/-/demo/channels/lis-results-to-his/block    # .../unblock
    curl -X POST http://127.0.0.1:18090/-/demo/channels/ris-reports-to-emr/quiet    # .../resume

``POST /-/demo/advance?seconds=N`` moves the engine's clock on by N seconds (tests run it without a clock);
``POST /-/demo/version?to=4.5.3`` upgrades it (see the release records in the console's changes).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hmac
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "4.5.2"
USER = "hospmon"
STATUS_KEY = "com.mirth.connect.donkey.model.message.Status"
ESB_WORDS = {"started": "RUNNING", "stopped": "STOPPED", "paused": "PAUSED"}


@dataclass
class Channel:
    """One interface: its traffic per minute and what it has done so far."""

    id: str
    name: str
    per_minute: float
    state: str = "started"
    blocked: bool = False
    """The receiving system is down: messages queue instead of being sent."""
    quiet: bool = False
    """The sending system has stopped sending: nothing arrives though the channel is started."""
    received: float = 0.0
    sent: float = 0.0
    errored: float = 0.0
    queued: float = 0.0
    last_message: float | None = None


# The interfaces of a general hospital, with their messages per minute on a working morning.
CHANNELS = [
    ("his-adt-to-lis", "HIS ADT to LIS", 12.0),
    ("his-orders-to-lis", "HIS lab orders to LIS", 20.0),
    ("lis-results-to-his", "LIS results to HIS", 18.0),
    ("his-orders-to-ris", "HIS imaging orders to RIS", 6.0),
    ("ris-reports-to-emr", "RIS reports to EMR", 4.0),
    ("his-dispense-to-pharmacy", "HIS prescriptions to pharmacy", 15.0),
]
ERROR_EVERY = 400  # one message in 400 fails (a malformed segment, a closed encounter)


class Engine:
    """The channels and their counts; `advance` moves time on and lets messages through."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now
        self.version = VERSION
        self.lock = threading.Lock()
        self.channels = {cid: Channel(cid, name, rate) for cid, name, rate in CHANNELS}

    def advance(self, seconds: float) -> None:
        """Let `seconds` of traffic through every started channel."""
        with self.lock:
            self.now += seconds
            for ch in self.channels.values():
                if ch.state != "started" or ch.quiet:
                    continue
                arrived = ch.per_minute * seconds / 60
                ch.received += arrived
                ch.last_message = self.now
                failed = arrived / ERROR_EVERY
                ch.errored += failed
                if ch.blocked:
                    ch.queued += arrived - failed
                else:
                    ch.sent += arrived - failed + ch.queued
                    ch.queued = 0.0

    def control(self, channel_id: str, action: str) -> bool:
        """Stop or start a channel, block or unblock its receiver, quiet or resume its sender; False when the
        channel or the action is unknown."""
        with self.lock:
            ch = self.channels.get(channel_id)
            if ch is None or action not in ("stop", "start", "block", "unblock", "quiet", "resume"):
                return False
            if action in ("stop", "start"):
                ch.state = "stopped" if action == "stop" else "started"
            elif action in ("block", "unblock"):
                ch.blocked = action == "block"
            else:
                ch.quiet = action == "quiet"
            return True

    def statuses(self) -> dict[str, Any]:
        """Return ``/api/channels/statuses`` as Mirth's XStream JSON writes it."""
        with self.lock:
            return {"list": {"dashboardStatus": [_dashboard_status(ch) for ch in self.channels.values()]}}

    def newest(self, channel_id: str) -> dict[str, Any] | None:
        """Return ``/api/channels/{id}/messages?limit=1``: the newest message's metadata, no content."""
        with self.lock:
            ch = self.channels.get(channel_id)
            if ch is None:
                return None
            if ch.last_message is None:
                return {"list": ""}
            millis = int(ch.last_message * 1000)
            message = {
                "messageId": int(ch.received),
                "channelId": ch.id,
                "receivedDate": {"time": millis, "timezone": "Asia/Shanghai"},
                "processed": True,
            }
            return {"list": {"message": message}}

    def esb(self) -> dict[str, Any]:
        """Return the plainer status page of the ``engine_json`` module."""
        with self.lock:
            rows = [
                {
                    "name": ch.name,
                    "status": ESB_WORDS.get(ch.state, "UNKNOWN"),
                    "stats": {"in": int(ch.received), "out": int(ch.sent), "err": int(ch.errored)},
                    "queue": int(ch.queued),
                    "lastMessageTime": None
                    if ch.last_message is None
                    else dt.datetime.fromtimestamp(ch.last_message, dt.UTC).isoformat(),
                }
                for ch in self.channels.values()
            ]
        return {"version": "HIP 3.0.7", "data": {"channels": rows}}


def _dashboard_status(ch: Channel) -> dict[str, Any]:
    counts = {"RECEIVED": ch.received, "FILTERED": 0, "SENT": ch.sent, "ERROR": ch.errored}
    entries = [{STATUS_KEY: k, "long": int(v)} for k, v in counts.items()]
    return {
        "channelId": ch.id,
        "name": ch.name,
        "state": ch.state.upper(),
        "statistics": {"@class": "linked-hash-map", "entry": entries},
        "lifetimeStatistics": {"@class": "linked-hash-map", "entry": entries},
        "childStatuses": "",
        "metaDataId": 0,
        "queueEnabled": True,
        "queued": int(ch.queued),
        "waitForPrevious": False,
        "statusType": "CHANNEL",
    }


def make_handler(engine: Engine, password: str) -> type[BaseHTTPRequestHandler]:
    """Return a request handler serving `engine` behind basic auth with `password`."""
    expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, kind: str = "application/json") -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            given = self.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), expected.encode()):
                return True
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="Mirth Connect"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = url.path.rstrip("/")
            if path == "/-/ready":
                self._send(200, "ready", "text/plain")
                return
            if not self._authorised():
                return
            if path.startswith("/api/") and "X-Requested-With" not in self.headers:
                self._send(400, {"error": "X-Requested-With header required"})
            elif path == "/api/channels/statuses":
                self._send(200, engine.statuses())
            elif path == "/api/server/version":
                self._send(200, engine.version, "text/plain")
            elif path.startswith("/api/channels/") and path.endswith("/messages"):
                query = parse_qs(url.query)
                if query.get("includeContent") != ["false"]:
                    self._send(400, {"error": "this engine never hands out message content"})
                    return
                found = engine.newest(path.split("/")[3])
                self._send(200 if found is not None else 404, found or {"error": "no such channel"})
            elif path == "/esb/api/v1/channels":
                self._send(200, engine.esb())
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            if parts[:2] == ["-", "demo"] and parts[2:3] == ["advance"]:
                engine.advance(float(parse_qs(url.query).get("seconds", ["60"])[0]))
                self._send(200, {"now": engine.now})
            elif parts == ["-", "demo", "version"]:
                engine.version = parse_qs(url.query).get("to", [VERSION])[0][:64]
                self._send(200, {"version": engine.version})
            elif parts[:3] == ["-", "demo", "channels"] and len(parts) == 5:
                ok = engine.control(parts[3], parts[4])
                self._send(200 if ok else 404, {"ok": ok})
            else:
                self._send(404, {"error": "not found"})

    return Handler


def serve(engine: Engine, password: str, host: str, port: int) -> ThreadingHTTPServer:
    """Start serving `engine` in a daemon thread; return the server (``server_address`` has the port)."""
    server = ThreadingHTTPServer((host, port), make_handler(engine, password))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    """Serve with live traffic until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1:18090")
    parser.add_argument("--password-file", type=Path, required=True, help="the API password of user hospmon")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    engine = Engine(now=time.time() - 8 * 3600)
    engine.advance(8 * 3600)  # a morning's traffic already through when the demo starts
    server = serve(engine, args.password_file.read_text(encoding="utf-8").strip(), host, int(port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        engine.advance(time.time() - engine.now)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

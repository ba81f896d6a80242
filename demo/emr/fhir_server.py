"""The demo's simulated EMR FHIR R4 endpoint: ``python -m demo.emr.fhir_server --listen 127.0.0.1:18080``.

Serves under ``/fhir``: the CapabilityStatement (``metadata``), ``_summary=count`` searches whose totals grow
as the day goes on, and the synthetic monitoring patient ``Patient/hospmon-synthetic-1``. Searches take a
few milliseconds, now and then a few hundred, as a busy EMR does.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

START = time.time()
BASE_COUNTS = {
    "Patient": 412_388,
    "Encounter": 2_931_045,
    "DocumentReference": 5_120_771,
    "Observation": 18_204_660,
}
GROWTH_PER_HOUR = {"Patient": 40, "Encounter": 300, "DocumentReference": 520, "Observation": 2400}
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "kind": "instance",
    "fhirVersion": "4.0.1",
    "format": ["json"],
    "software": {"name": "Demo EMR FHIR gateway", "version": "5.2.0"},
    "rest": [{"mode": "server", "resource": [{"type": t} for t in BASE_COUNTS]}],
}
SYNTHETIC_PATIENT = {
    "resourceType": "Patient",
    "id": "hospmon-synthetic-1",
    "meta": {"tag": [{"system": "urn:hospmon", "code": "synthetic-monitoring-record"}]},
    "name": [{"text": "HOSPMON 监测测试"}],
    "active": True,
}
SYNTHETIC_DOCUMENT = {
    "resourceType": "DocumentReference",
    "id": "hospmon-synthetic-doc-1",
    "meta": {"tag": [{"system": "urn:hospmon", "code": "synthetic-monitoring-record"}]},
    "status": "current",
    "subject": {"reference": "Patient/hospmon-synthetic-1"},
    "content": [{"attachment": {"contentType": "text/plain", "url": "Binary/hospmon-synthetic-doc-1"}}],
}
# A discharge summary's size: the probe measures how long a clinician waits for a document of this kind.
SYNTHETIC_TEXT = ("HOSPMON synthetic discharge summary for monitoring. 监测用合成出院小结。\n" * 600).encode()
rng = random.Random()  # noqa: S311 - simulated latency, not secrets


class Handler(BaseHTTPRequestHandler):
    """Answer FHIR reads and counted searches."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.removeprefix("/fhir").strip("/")
        if rng.random() < 0.02:
            time.sleep(rng.uniform(0.2, 0.6))  # a busy moment
        if path == "metadata":
            self._send(200, CAPABILITY)
        elif path in BASE_COUNTS and parts.query == "_summary=count":
            hours = (time.time() - START) / 3600
            total = BASE_COUNTS[path] + int(GROWTH_PER_HOUR[path] * hours)
            self._send(200, {"resourceType": "Bundle", "type": "searchset", "total": total})
        elif path == "Patient/hospmon-synthetic-1":
            self._send(200, SYNTHETIC_PATIENT)
        elif path == "DocumentReference/hospmon-synthetic-doc-1":
            self._send(200, SYNTHETIC_DOCUMENT)
        elif path == "Binary/hospmon-synthetic-doc-1":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(SYNTHETIC_TEXT)))
            self.end_headers()
            self.wfile.write(SYNTHETIC_TEXT)
        else:
            outcome = {"severity": "error", "code": "not-found"}
            self._send(404, {"resourceType": "OperationOutcome", "issue": [outcome]})


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1:18080")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

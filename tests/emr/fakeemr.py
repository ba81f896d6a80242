"""A small FHIR-like EMR served on 127.0.0.1 port 0, over HTTP or TLS, with patient-like canary values.

The first path segment picks a behaviour, so one server covers every case::

    /fhir/...     a healthy FHIR R4 server and web portal
    /broken/...   500 on everything
    /locked/...   401 unless the request carries the bearer token (static or from /fhir/token)
    /wrong/...    200 with the wrong content
    /hang/...     reads the request and never answers
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.canary import CANARY

# Planted values that look like patient data; no exporter output may ever contain them.
# The one canary patient of every layer's canary test (tests/canary.py).
CANARY_NAME = CANARY.name
CANARY_MRN = CANARY.mrn
CANARY_ID_NUMBER = CANARY.resident_id
CANARY_PHONE = CANARY.phone
CANARIES = (CANARY_NAME, CANARY_MRN, CANARY_ID_NUMBER, CANARY_PHONE)

BEARER = "bearer-token-1"
CLIENT_ID, CLIENT_SECRET, OAUTH_TOKEN = "hospmon", "client-secret-1", "oauth-token-1"
USER, PASSWORD = "monitor", "password-1"

PATIENT = {
    "resourceType": "Patient",
    "id": "hospmon-synthetic-1",
    "identifier": [
        {"system": "urn:oid:2.16.840.1.113883.2.23.1.1", "value": CANARY_MRN},
        {"system": "urn:oid:2.16.156.10011.1.3", "value": CANARY_ID_NUMBER},
    ],
    "name": [{"text": CANARY_NAME}],
    "telecom": [{"system": "phone", "value": CANARY_PHONE}],
}
CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "fhirVersion": "4.0.1",
    "software": {"name": "FakeEMR FHIR", "version": "3.2.1"},
    "contact": [{"name": CANARY_NAME, "telecom": [{"value": CANARY_PHONE}]}],
}
COUNTS = {"Patient": 1342, "Encounter": 56789}
DOCUMENT_TEXT = f"Discharge summary of {CANARY_NAME}, {CANARY_MRN}. ".encode() * 200
DOCUMENT = {
    "resourceType": "DocumentReference",
    "id": "hospmon-synthetic-doc-1",
    "status": "current",
    "subject": {"display": CANARY_NAME},
    "content": [{"attachment": {"contentType": "text/plain", "url": "Binary/hospmon-synthetic-doc-1"}}],
}
FOREIGN_DOCUMENT = DOCUMENT | {
    "id": "hospmon-foreign-doc",
    "content": [{"attachment": {"url": "http://127.0.0.2:9/Binary/elsewhere"}}],
}
PORTAL = f"<html><body><h1>EMR</h1><p>Last patient: {CANARY_NAME} {CANARY_MRN}</p>Sign in</body></html>"


class _Handler(BaseHTTPRequestHandler):
    server: FakeEmr
    protocol_version = "HTTP/1.1"  # keep-alive, as real EMRs: the probe must close its sockets itself

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/fhir+json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/fhir/token":
            self._send(404, {"error": "not found"})
            return
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._send(401, {"error": "invalid_client"}, "application/json")
            return
        self._send(200, {"access_token": OAUTH_TOKEN, "token_type": "Bearer"}, "application/json")

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        _, mode, rest = self.path.split("/", 2) if self.path.count("/") >= 2 else ("", self.path[1:], "")
        if mode == "hang":
            self.server.stopped.wait(30)
            return
        if mode == "broken":
            self._send(500, {"resourceType": "OperationOutcome", "issue": [{"diagnostics": CANARY_NAME}]})
            return
        if mode == "locked":
            auth = self.headers.get("Authorization")
            basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if auth not in {f"Bearer {BEARER}", f"Bearer {OAUTH_TOKEN}", basic}:
                self._send(401, {"resourceType": "OperationOutcome"})
                return
        if mode == "wrong":
            if rest.startswith("Patient/"):
                self._send(200, PATIENT | {"id": "someone-else"})
            elif rest == "health":
                self._send(200, {"status": "DOWN", "db": {"connections": 0}}, "application/json")
            else:
                self._send(200, f"<html>Maintenance {CANARY_NAME}</html>", "text/html; charset=utf-8")
            return
        self._healthy(rest)

    def _healthy(self, rest: str) -> None:
        if rest == "metadata":
            self._send(200, CAPABILITY)
        elif rest.endswith("?_summary=count") and rest.split("?", maxsplit=1)[0] in COUNTS:
            total = COUNTS[rest.split("?", maxsplit=1)[0]]
            self._send(200, {"resourceType": "Bundle", "type": "searchset", "total": total})
        elif rest == "Patient/hospmon-synthetic-1":
            self._send(200, PATIENT)
        elif rest == "DocumentReference/hospmon-synthetic-doc-1":
            self._send(200, DOCUMENT)
        elif rest == "DocumentReference/hospmon-foreign-doc":
            self._send(200, FOREIGN_DOCUMENT)
        elif rest == "Binary/hospmon-synthetic-doc-1":
            self._send(200, DOCUMENT_TEXT.decode(), "text/plain; charset=utf-8")
        elif rest == "old-portal":
            self.send_response(302)
            self.send_header("Location", "portal")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif rest == "portal":
            self._send(200, PORTAL, "text/html; charset=utf-8")
        elif rest == "health":
            self._send(200, {"status": "UP", "db": {"connections": 12}}, "application/json")
        else:
            self._send(404, {"resourceType": "OperationOutcome"})


class FakeEmr(ThreadingHTTPServer):
    """The fake EMR, started in a daemon thread; use as a context manager."""

    daemon_threads = True

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopped = threading.Event()
        self.requests: list[str] = []
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.socket = context.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def url(self, mode: str = "fhir") -> str:
        """Return the base URL of one behaviour."""
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/{mode}"

    def __enter__(self) -> FakeEmr:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopped.set()
        self.shutdown()
        self.server_close()

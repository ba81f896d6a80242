"""An MLLP peer from hl7apy (`hl7apy.mllp.MLLPServer`) that answers as a test tells it, and the exporter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hl7apy.mllp import AbstractHandler, MLLPServer
from hl7apy.parser import parse_message

from exporters.core.server import ExporterApp, RunningServer
from exporters.lis.main import LisExporter
from tests.conftest import LOOPBACK_ADHOC_YAML

# Modes: an acknowledgement code, "never" (hold the connection, answer nothing), "unframed" (an ACK without
# MLLP blocks), "wrong_id" (an AA for another message).
MODES = ("AA", "AE", "AR", "CA", "CR", "never", "unframed", "wrong_id")


class ScriptedHandler(AbstractHandler):  # type: ignore[misc]
    """Answer the probe's message as the server's `mode` says; hl7apy parses the message first."""

    def __init__(self, message: str, server: ScriptedServer) -> None:
        super().__init__(message)
        self.server = server

    def reply(self) -> str:
        incoming = parse_message(self.incoming_message, find_groups=False)
        self.server.received.append(incoming.msh.msh_9.to_er7())
        control = incoming.msh.msh_10.value
        mode = self.server.mode
        if mode == "never":
            self.server.stopped.wait(30)
            return ""
        code = "AA" if mode in ("unframed", "wrong_id") else mode
        acked = "OTHER-ID" if mode == "wrong_id" else control
        ack = (
            f"MSH|^~\\&|LIS|LAB|HOSPMON|MONITORING|20260101120000||ACK^A01|ACK{control}|T|2.5\r"
            f"MSA|{code}|{acked}|Free text that could name a patient\r"
        )
        return ack if mode == "unframed" else f"\x0b{ack}\x1c\x0d"


class ScriptedServer(MLLPServer):  # type: ignore[misc]
    """hl7apy's MLLP server on 127.0.0.1 and a free port."""

    daemon_threads = True

    def __init__(self) -> None:
        handler: tuple[Any, ...] = (ScriptedHandler, self)
        super().__init__("127.0.0.1", 0, {"ADT^A01": handler, "ORM^O01": handler}, timeout=5)
        self.mode = "AA"
        self.received: list[str] = []
        self.stopped = threading.Event()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def mllp_server() -> Iterator[ScriptedServer]:
    """Run the scripted MLLP server until the test ends."""
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stopped.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[RunningServer]:
    """Run the LIS exporter with an ADT module, an ORM module and a module capped at 1 s."""
    config = tmp_path / "lis.yml"
    config.write_text(
        LOOPBACK_ADHOC_YAML
        + "modules:\n  mllp: {}\n  orm: {message_type: ORM^O01}\n  mllp_short: {timeout_seconds: 1}\n"
    )
    with RunningServer(ExporterApp(LisExporter(), config), "127.0.0.1", 0) as server:
        yield server

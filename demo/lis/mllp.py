"""The simulated LIS's HL7 v2 interface: hl7apy's MLLP server answering every message with AA."""

from __future__ import annotations

import threading
import time

from hl7apy.mllp import AbstractHandler as MllpHandler
from hl7apy.mllp import MLLPServer


class AckHandler(MllpHandler):  # type: ignore[misc]
    """Acknowledge any message with AA, echoing its control id; the message itself is not kept."""

    def reply(self) -> str:
        """Return the framed ACK."""
        segments = [s for s in str(self.incoming_message).replace("\n", "\r").split("\r") if s]
        fields = [*(segments[0].split("|") if segments else []), *[""] * 10]
        control, stamp = fields[9], time.strftime("%Y%m%d%H%M%S")
        ack = f"MSH|^~\\&|LIS|LAB|{fields[2]}|{fields[3]}|{stamp}||ACK|ACK{control}|P|2.5\rMSA|AA|{control}\r"
        return f"\x0b{ack}\x1c\x0d"


def serve_acks(port: int) -> MLLPServer:
    """Answer ORM^O01, ADT^A01 and ORU^R01 on 127.0.0.1:`port` from a daemon thread; return the server."""
    handlers = {kind: (AckHandler,) for kind in ("ORM^O01", "ADT^A01", "ORU^R01")}
    server = MLLPServer("127.0.0.1", port, handlers, timeout=10)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="mllp", daemon=True).start()
    return server

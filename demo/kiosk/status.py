"""The demo's self-service kiosk: its local status page, ``GET /status`` -> ``{"state": "in_service", ...}``.

``python -m demo.kiosk.status --listen 127.0.0.1:18082 [--state out_of_service]``. A real kiosk's agent
reports whether registration and payment are open (receipt paper, card reader, HIS session); this one says
what it is told. It holds no patient data.
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    """Serve the status page until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:18082")
    parser.add_argument("--state", default="in_service", choices=["in_service", "out_of_service"])
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    body = json.dumps({"state": args.state, "paper": "ok", "card_reader": "ok", "his_session": "ok"}).encode()

    class Status(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/status":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, int(port)), Status)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

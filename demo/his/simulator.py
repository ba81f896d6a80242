"""The demo's simulated HIS: its MariaDB database, a web front end and the clinic's daily traffic.

Run as ``python -m demo.his.simulator --mariadb-dir run/his/mariadb --mariadb-port 13306 --listen
127.0.0.1:18081``: it starts a private MariaDB server (created with the schema of docs/his-schema.md on first
start), then keeps registrations, prescriptions, payments, insurance settlements and interface messages
flowing with the daily curve of a Chinese outpatient department (Asia/Shanghai clinic hours, a morning peak
from before 08:00, a lunch break, a smaller afternoon peak, Saturday mornings, quiet Sundays; the emergency
department all day) and occasional failures: failed payments, rejected settlements and now and then a
few minutes when the insurance front-end processor fails most requests slowly.

The web front end on ``--listen`` serves ``/his/login`` (the registration and billing page),
``/his/api/health`` (503 while the database does not answer) and ``/-/ready``. ``POST /-/demo/database/stop``
and ``/start`` stop and restart the database, to watch the business probes fail and the alert fire.

Every patient here is made up; the generator writes names, record numbers, ID and phone numbers on purpose,
so the demo shows that none of them reaches Prometheus.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymysql

from demo.his.traffic import Generator
from demo.servers.mariadb import MariaDBServer

SCHEMA = Path(__file__).with_name("schema.sql")
log = logging.getLogger("his-simulator")


def schema_statements(text: str | None = None) -> list[str]:
    """Return the statements of the schema file, comments removed."""
    text = SCHEMA.read_text(encoding="utf-8") if text is None else text
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class Database:
    """A private MariaDB server the simulator starts, stops and restarts."""

    def __init__(self, folder: Path, port: int, monitor_password: str) -> None:
        self.server = MariaDBServer(
            folder.resolve(), port=port, options=["--max-connections=60", "--default-time-zone=+08:00"]
        )
        self.socket = self.server.socket
        self.monitor_password = monitor_password
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the server (creating it with the schema on first start) and wait until it answers."""
        with self.lock:
            if not self.server.running and self.server.start():
                self._create()

    def admin(self) -> Any:
        """Connect as root over the socket."""
        return self.server.admin()

    def _create(self) -> None:
        # The monitoring account may read what the business queries need and nothing of the patient
        # table, the free-text note or the message payload (column-level grants).
        readable = {
            "clinic": "*", "pharmacy": "*", "interface_channel": "*", "billing": "*",
            "insurance_settlement": "*", "prescription": "*",
            "registration": "reg_id, clinic_code, registered_at, status, called_at",
            "interface_message": "msg_id, channel, created_at, status, sent_at",
        }  # fmt: skip
        with contextlib.closing(self.admin()) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE his CHARACTER SET utf8mb4")
            cur.execute("USE his")
            for statement in schema_statements():
                cur.execute(statement)
            cur.execute("CREATE USER 'hospmon'@'127.0.0.1' IDENTIFIED BY %s", (self.monitor_password,))
            # Server health for the database exporter: the process list and replication state, no data.
            cur.execute("GRANT PROCESS, REPLICA MONITOR ON *.* TO 'hospmon'@'127.0.0.1'")
            for table, columns in readable.items():
                what = "SELECT" if columns == "*" else f"SELECT ({columns})"
                cur.execute(f"GRANT {what} ON his.{table} TO 'hospmon'@'127.0.0.1'")

    def stop(self) -> None:
        """Stop the server as an outage would: at once, without a clean shutdown of its clients."""
        with self.lock:
            self.server.stop()

    def running(self) -> bool:
        """Tell whether the server process runs."""
        return self.server.running


LOGIN_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>HIS 挂号收费</title></head>"
    "<body><h1>Demo City First People's Hospital</h1><h2>HIS 挂号收费 Registration and billing</h2>"
    "<form><input name='user'><input name='password' type='password'><button>登录</button></form>"
    "</body></html>"
)


class Front(BaseHTTPRequestHandler):
    """The HIS web front end: a login page and a health API that asks the database."""

    server: FrontServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/his/login":
            self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")
        elif self.path == "/his/api/health":
            up = self.server.database_answers()
            body = json.dumps({"status": "UP" if up else "DOWN", "database": "UP" if up else "DOWN"})
            self._send(200 if up else 503, body, "application/json")
        elif self.path == "/-/ready":
            ready = self.server.generator.ticks > 0
            self._send(200 if ready else 503, "ready\n" if ready else "starting\n", "text/plain")
        else:
            self._send(404, "not found\n", "text/plain")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        database = self.server.database
        if self.path not in {"/-/demo/database/stop", "/-/demo/database/start"}:
            self._send(404, "not found\n", "text/plain")
            return
        if self.path.endswith("stop"):
            database.stop()
        else:
            database.start()
        self._send(200, "database " + ("running\n" if database.running() else "stopped\n"), "text/plain")


class FrontServer(ThreadingHTTPServer):
    """The front end's server, knowing the generator and the database it may stop and start."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        generator: Generator,
        database: Database,
        probe: Callable[[], Any],
    ) -> None:
        super().__init__(address, Front)
        self.generator = generator
        self.database = database
        self.probe = probe

    def database_answers(self) -> bool:
        """Run SELECT 1 on a fresh connection."""
        try:
            with contextlib.closing(self.probe()) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
                return True
        except Exception:
            return False


def main(argv: list[str] | None = None) -> int:
    """Run the simulated HIS until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1:18081")
    parser.add_argument("--mariadb-dir", type=Path, required=True, help="the private MariaDB's folder")
    parser.add_argument("--mariadb-port", type=int, default=13306)
    parser.add_argument(
        "--monitor-password-file", type=Path, required=True, help="password of the hospmon account created"
    )
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(message)s")
    password = args.monitor_password_file.read_text(encoding="utf-8").strip()
    database = Database(args.mariadb_dir, args.mariadb_port, password)
    database.start()
    socket_path = database.socket

    def connect() -> Any:
        return pymysql.connect(unix_socket=socket_path, user="root", autocommit=True, connect_timeout=1)

    generator = Generator(connect, args.seed)
    host, _, port = args.listen.rpartition(":")
    server = FrontServer((host, int(port)), generator, database, connect)
    threading.Thread(target=generator.run, name="generator", daemon=True).start()
    threading.Thread(target=server.serve_forever, name="front", daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("simulated HIS on http://%s", args.listen)
    stop.wait()
    generator.stop_event.set()
    server.shutdown()
    database.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

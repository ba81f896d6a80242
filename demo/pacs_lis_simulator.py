"""The simulated PACS and LIS systems in one process (``python -m demo.pacs_lis_simulator RUN/pacs_lis``).

It owns and stops with itself: dcmtk's dcmqrscp playing the stores of three modalities (AE titles ``CT1``,
``MR1``, ``DRED1``), a private MariaDB holding the LIS database ``lis``, and hl7apy's MLLP server answering
AA. It loads the synthetic studies (one ED radiograph is never routed to the archive), keeps samples flowing
through the LIS every 20 s, adds a CT study every few minutes, and answers ``/ready`` once all of that runs.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from demo import ports
from demo.lis.flow import LisFlow, lis_statements, seed_reference
from demo.lis.mllp import serve_acks
from demo.pacs.studies import SECONDARY_CAPTURE, synthetic_study, write_instances
from demo.parts.pacs_lis import (
    HOSPITAL_ZONE,
    LIS_DB_PORT,
    LIS_USER,
    MLLP_PORT,
    MODALITY_PORT,
    NEW_STUDY_SECONDS,
    ORTHANC_HTTP,
    SIM_PORT,
    TICK_SECONDS,
)
from demo.servers.mariadb import MariaDBServer
from demo.servers.process import accepts, require, terminate, wait_until


class Simulator:
    """The simulated modality node, LIS database and MLLP interface of the demo, and their activity."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.zone = ZoneInfo(HOSPITAL_ZONE)
        self.children: list[subprocess.Popen[bytes]] = []
        offset = dt.datetime.now(self.zone).strftime("%z")
        self.lis_db = MariaDBServer(
            folder / "mariadb",
            port=ports.port(LIS_DB_PORT),
            options=[f"--default-time-zone={offset[:3]}:{offset[3:]}"],
        )
        self.rng = random.Random()  # noqa: S311 - made-up lab data, not secrets
        self.flow = LisFlow(self.rng)
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def now(self) -> dt.datetime:
        """Return the hospital's wall-clock time, as modalities stamp their studies."""
        return dt.datetime.now(self.zone).replace(tzinfo=None)

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.children.append(proc)
        return proc

    # The LIS database ---------------------------------------------------------------------------------

    def start_mariadb(self) -> None:
        """Start the LIS's MariaDB on 127.0.0.1:13307 in the hospital's zone; create ``lis`` if missing."""
        self.lis_db.start()
        password = (self.folder / "lis-db-password").read_text(encoding="utf-8").strip()
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS lis CHARACTER SET utf8mb4")
            cur.execute(f"CREATE USER IF NOT EXISTS '{LIS_USER}'@'127.0.0.1' IDENTIFIED BY %s", (password,))
            cur.execute(f"ALTER USER '{LIS_USER}'@'127.0.0.1' IDENTIFIED BY %s", (password,))
            cur.execute(f"GRANT SELECT ON lis.* TO '{LIS_USER}'@'127.0.0.1'")
            cur.execute("USE lis")
            cur.execute("SHOW TABLES LIKE 'lab_order'")
            if not cur.fetchall():
                for statement in lis_statements():
                    cur.execute(statement)
                seed_reference(cur)
                self.flow.seed(cur)

    def admin(self) -> Any:
        """Connect as root over the server's socket."""
        return self.lis_db.admin()

    # The PACS -----------------------------------------------------------------------------------------

    def start_modalities(self) -> None:
        """Load the synthetic studies into the modality stores and the archive, then start dcmqrscp."""
        base = self.folder / "modalities"
        if base.exists():
            shutil.rmtree(base)
        now = self.now()
        minutes = [10, 40, 95, 150, 200, 260]
        # AE title, modality, ages in minutes: every study reached the archive (until the scripted morning).
        plan = [("CT1", "CT", minutes), ("MR1", "MR", minutes[1:4]), ("DRED1", "DX", minutes[:4])]
        table = []
        for ae, modality, ages in plan:
            (base / ae).mkdir(parents=True)
            table.append(f"{ae} {base / ae} RW (200, 64mb) local")
            files = []
            for age in ages:
                instances = synthetic_study([modality], now - dt.timedelta(minutes=age))
                files += write_instances(instances, base / "files")
                self.archive(instances)
            subprocess.run(["dcmqridx", str(base / ae), *map(str, files)], check=True, capture_output=True)
        for modality, age in [("US", 30), ("US", 70), ("US", 120), ("MG", 45), ("MG", 180)]:
            self.archive(synthetic_study([modality], now - dt.timedelta(minutes=age)))
        # dcmqrscp listens on every interface (it has no option to bind one); its stores answer only the
        # monitoring AE and the modalities themselves, from this machine.
        # dcmqrscp matches peers by host name: 127.0.0.1 reads as localhost.
        hosts = [f"{ae.lower()} = ({ae}, localhost, 104)" for ae in ("HOSPMON", "CT1", "MR1", "DRED1")]
        config = self.folder / "dcmqrscp.cfg"
        config.write_text(
            f"NetworkTCPPort = {ports.port(MODALITY_PORT)}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
            "HostTable BEGIN\n" + "\n".join(hosts) + "\nlocal = hospmon, ct1, mr1, dred1\nHostTable END\n"
            "VendorTable BEGIN\nVendorTable END\n"
            "AETable BEGIN\n" + "\n".join(table) + "\nAETable END\n",
            encoding="utf-8",
        )
        node = ports.port(MODALITY_PORT)
        proc = self._spawn([require("dcmqrscp"), "-c", str(config), str(node)], "dcmqrscp.log")
        wait_until(lambda: accepts(node), "dcmqrscp", 60, proc, self.folder / "dcmqrscp.log")

    def unrouted_radiograph(self, minutes_ago: int = 35) -> None:
        """Put an ED radiograph taken `minutes_ago` on ``DRED1`` that never reaches the archive."""
        instances = synthetic_study(["DX"], self.now() - dt.timedelta(minutes=minutes_ago))
        self.store_on_modality("DRED1", instances)

    def archive(self, instances: Iterable[Dataset]) -> None:
        """Store instances in the Orthanc archive through its REST API."""
        for ds in instances:
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            request = urllib.request.Request(  # noqa: S310 - the demo's own Orthanc
                ports.url(ORTHANC_HTTP, "/instances"), data=buffer.getvalue(), method="POST"
            )
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the demo's own Orthanc
                pass

    def store_on_modality(self, ae_title: str, instances: list[Dataset]) -> None:
        """C-STORE instances into a modality's store on the node, as the modality itself."""
        from pynetdicom import AE

        ae = AE(ae_title=ae_title)
        ae.add_requested_context(SECONDARY_CAPTURE, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", ports.port(MODALITY_PORT), ae_title=ae_title)
        if not assoc.is_established:
            raise RuntimeError(f"the modality node refused {ae_title}")
        for ds in instances:
            assoc.send_c_store(ds)
        assoc.release()

    def new_ct_study(self) -> None:
        """Acquire a CT study on ``CT1`` (C-STORE to the modality node) and route it to the archive."""
        instances = synthetic_study(["CT"], self.now())
        self.store_on_modality("CT1", instances)
        self.archive(instances)

    # The MLLP interface and the readiness page -----------------------------------------------------------

    def start_mllp(self) -> None:
        """Answer every HL7 v2 message on 127.0.0.1:12575 with an AA acknowledgement (hl7apy's server)."""
        serve_acks(ports.port(MLLP_PORT))

    def start_status(self) -> None:
        """Serve ``/ready`` on 127.0.0.1:18044 (200 once every simulated system runs) and the demo's
        ``POST /-/demo/unrouted-radiograph`` (an ED radiograph that never reaches the archive)."""
        sim = self

        class Status(http.server.BaseHTTPRequestHandler):
            def _answer(self, status: int, text: str) -> None:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode() + b"\n")

            def do_GET(self) -> None:
                ok = sim.ready.is_set() and sim.lis_db.running and all(c.poll() is None for c in sim.children)
                self._answer(200 if ok else 503, "ready" if ok else "starting")

            def do_POST(self) -> None:
                if self.path != "/-/demo/unrouted-radiograph":
                    self._answer(404, "unknown demo action")
                    return
                try:
                    sim.unrouted_radiograph()
                except (OSError, RuntimeError) as exc:
                    self._answer(503, f"not stored: {exc}")
                    return
                self._answer(200, "an ED radiograph waits on DRED1, not sent to the archive")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", ports.port(SIM_PORT)), Status)
        threading.Thread(target=server.serve_forever, name="status", daemon=True).start()

    def run(self) -> int:
        """Start everything, then keep the LIS flowing and new studies coming until SIGTERM."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        try:
            self.start_status()
            self.start_mariadb()
            self.start_modalities()
            self.start_mllp()
            self.ready.set()
            print("pacs-lis-sim: ready", flush=True)
            last_study = time.monotonic()
            while not self.stopping.wait(TICK_SECONDS):
                with self.admin() as conn, conn.cursor() as cur:
                    cur.execute("USE lis")
                    self.flow.tick(cur, TICK_SECONDS)
                if time.monotonic() - last_study > NEW_STUDY_SECONDS:
                    self.new_ct_study()
                    last_study = time.monotonic()
            return 0
        finally:
            for child in reversed(self.children):
                terminate(child)
            self.lis_db.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulated PACS and LIS systems in the folder `parts` prepared."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m demo.pacs_lis_simulator RUN/pacs_lis", file=sys.stderr)
        return 2
    return Simulator(Path(args[0]).resolve()).run()


if __name__ == "__main__":
    raise SystemExit(main())

"""The demo's imaging and laboratory systems: an Orthanc archive, a dcmtk modality node, an MLLP LIS
interface and a LIS database with orders and results flowing, then the LIS and PACS exporters.

`parts` returns, in start order:

- ``orthanc``: the PACS archive (AE ``ARCHIVE``, DICOM 14242, HTTP 18042 with DICOMweb). Orthanc 1.10 cannot
  bind one address: it listens on every interface, and its HTTP API refuses clients other than loopback.
- ``pacs-lis-sim`` (``python -m demo.parts.pacs_lis RUN/pacs_lis``): the simulated systems it owns and
  stops with itself: dcmtk's dcmqrscp on 11112 playing the stores of three modalities (AE titles ``CT1``,
  ``MR1``, ``DRED1``; like Orthanc it listens on every interface), a private MariaDB on 127.0.0.1:13307
  holding the LIS database ``lis``, and hl7apy's MLLP server on 127.0.0.1:12575 answering AA. It loads the
  synthetic studies (one ED radiograph is never routed to the archive, so the routing alert shows), keeps
  samples flowing through the LIS every 20 s, adds a CT study every few minutes, and answers
  ``http://127.0.0.1:18044/ready`` once all of that runs.
- ``lis-exporter`` (19107) and ``pacs-exporter`` (19108) with ``deploy/exporters/{lis,pacs}.yml``.

Every study is synthetic (pydicom, patient ``SYNTHETIC^DEMO``); every LIS row is made up.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hl7apy.mllp import AbstractHandler as MllpHandler
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from demo.launcher import REPO, Part, terminate

SECONDARY_CAPTURE = UID("1.2.840.10008.5.1.4.1.1.7")


def synthetic_study(
    modalities: Iterable[str], when: dt.datetime, study_uid: str | None = None
) -> list[Dataset]:
    """Return one tiny 8x8 instance per modality, all in one study dated `when`, of a synthetic patient."""
    study = study_uid or str(generate_uid())
    instances = []
    for number, modality in enumerate(modalities, start=1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = SECONDARY_CAPTURE
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName = "SYNTHETIC^DEMO"
        ds.PatientID = "SYNTHETIC-0001"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = generate_uid()
        ds.StudyDate = when.strftime("%Y%m%d")
        ds.StudyTime = when.strftime("%H%M%S")
        ds.StudyID = "1"
        ds.AccessionNumber = ""
        ds.Modality = modality
        ds.SeriesNumber = number
        ds.InstanceNumber = 1
        ds.Rows = ds.Columns = 8
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.PixelRepresentation = 0
        ds.PixelData = bytes(64)
        instances.append(ds)
    return instances


def write_instances(instances: Iterable[Dataset], folder: Path) -> list[Path]:
    """Write instances as DICOM files named by SOP instance UID; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in instances:
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


# --- The LIS database -------------------------------------------------------------------------------------

LIS_SCHEMA = REPO / "demo" / "lis" / "schema.sql"
# code, name, name_zh, opens, closes, weekdays (MariaDB WEEKDAY digits, 0 = Monday)
SECTIONS = [
    ("EMERG", "Emergency laboratory", "急诊检验", None, None, "0123456"),
    ("CHEM", "Clinical chemistry", "生化", None, None, "0123456"),
    ("HEMA", "Haematology", "临检", None, None, "0123456"),
    ("IMMU", "Immunology", "免疫", "08:00", "17:30", "012345"),
    ("MICRO", "Microbiology", "微生物", "08:00", "17:30", "012345"),
]
INTERFACES = [
    ("HIS-ORDERS", "Orders from the HIS (ORM^O01)", "HL7-MLLP"),
    ("LIS-RESULTS", "Verified results to the HIS and EMR (ORU^R01)", "HL7-MLLP"),
    ("AU5800-LINK", "Chemistry line", "ASTM"),
    ("XN-LINK", "Haematology analyzers", "HL7-MLLP"),
    ("COBAS-LINK", "Immunology analyzers", "HL7-MLLP"),
    ("VITEK-LINK", "Microbiology analyzers", "ASTM"),
]
ANALYZERS = [
    ("CHEM-AU5800-1", "CHEM", "Beckman Coulter AU5800", "AU5800-LINK"),
    ("HEMA-XN-1", "HEMA", "Sysmex XN-1000", "XN-LINK"),
    ("EMERG-XN-2", "EMERG", "Sysmex XN-550", "XN-LINK"),
    ("IMMU-E801-1", "IMMU", "Roche cobas e 801", "COBAS-LINK"),
    ("MICRO-VITEK-1", "MICRO", "bioMérieux VITEK 2", "VITEK-LINK"),
]
TESTS = {"EMERG": "CBC", "CHEM": "BMP", "HEMA": "CBC", "IMMU": "TNI", "MICRO": "BCX"}


def lis_statements() -> list[str]:
    """Return the demo LIS schema's statements."""
    text = "\n".join(line.split("--")[0] for line in LIS_SCHEMA.read_text(encoding="utf-8").splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


def seed_reference(cursor: Any) -> None:
    """Insert the demo laboratory's sections, interfaces and analyzers."""
    cursor.executemany("INSERT INTO lab_section VALUES (%s, %s, %s, %s, %s, %s)", SECTIONS)
    cursor.executemany("INSERT INTO interface VALUES (%s, %s, %s)", INTERFACES)
    cursor.executemany("INSERT INTO analyzer VALUES (%s, %s, %s, %s)", ANALYZERS)


class LisFlow:
    """Orders and results flowing through the demo LIS: each step ages the samples by real time.

    A sample is ordered, received in the lab a few minutes later, resulted by its section's analyzer and
    verified; STAT samples move faster. Some results raise critical values, notified within minutes.
    Every identifier is synthetic (``SYN...``).
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def _sample(self) -> tuple[str, str]:
        self.serial += 1
        return f"SYN{self.serial:09d}", f"SYNP{self.rng.randrange(10**6):06d}"

    def seed(self, cursor: Any, hours: float = 2.0) -> None:
        """Fill the past `hours` with finished samples, so turnaround histograms have data at once."""
        for _ in range(int(hours * 60)):
            ago = self.rng.uniform(600, hours * 3600)
            self._order(cursor, ago)

    def _order(self, cursor: Any, ago: float) -> None:
        """Insert one sample ordered `ago` seconds back, with every step that has happened since."""
        section = self.rng.choice([s[0] for s in SECTIONS])
        priority = "STAT" if section == "EMERG" or self.rng.random() < 0.2 else "ROUTINE"
        fast = priority == "STAT"
        analyzer = next(a[0] for a in ANALYZERS if a[1] == section)
        steps = [self.rng.uniform(120, 600)]  # to the lab
        steps.append(self.rng.uniform(300, 1200) if fast else self.rng.uniform(900, 3600))  # analysis
        steps.append(self.rng.uniform(60, 300) if fast else self.rng.uniform(300, 1800))  # verification
        times: list[float | None] = []
        at = ago
        for step in steps:
            at -= step
            times.append(at if at > 0 else None)
        received, resulted, verified = times
        status = "verified" if verified else "resulted" if resulted else "received" if received else "ordered"
        sample, patient = self._sample()

        def when(seconds: float | None) -> int | None:
            return None if seconds is None else int(seconds)  # NOW() - INTERVAL NULL SECOND is NULL

        ago_ = "NOW() - INTERVAL %s SECOND"
        stamps = (when(ago), when(received), when(resulted), when(verified))
        cursor.execute(
            "INSERT INTO lab_order (sample_no, patient_id, section, priority, test_code, analyzer, status,"
            " ordered_at, received_at, resulted_at, verified_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND,"
            " NOW() - INTERVAL %s SECOND)",
            (sample, patient, section, priority, TESTS[section], analyzer, status, *stamps),
        )
        order_id = cursor.lastrowid
        interface = next(a[3] for a in ANALYZERS if a[0] == analyzer)
        log = "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at) VALUES "
        cursor.execute(log + f"('HIS-ORDERS', NULL, 'in', 'ORM^O01', {ago_})", (when(ago),))
        if resulted is not None:
            cursor.execute(log + f"(%s, %s, 'in', 'ORU^R01', {ago_})", (interface, analyzer, when(resulted)))
            if self.rng.random() < 0.05:
                notify = resulted - self.rng.uniform(60, 480)
                cursor.execute(
                    "INSERT INTO critical_value (order_id, detected_at, notified_at, notified_role) VALUES"
                    " (%s, NOW() - INTERVAL %s SECOND, NOW() - INTERVAL %s SECOND, %s)",
                    (
                        order_id,
                        when(resulted),
                        when(notify if notify > 0 else None),
                        "doctor" if notify > 0 else None,
                    ),
                )
        if verified is not None:
            cursor.execute(log + f"('LIS-RESULTS', NULL, 'out', 'ORU^R01', {ago_})", (when(verified),))

    def tick(self, cursor: Any, seconds: float) -> None:
        """Advance the lab by `seconds`: new samples arrive and waiting ones move on."""
        for _ in range(max(1, round(seconds / 20))):
            self._order(cursor, 0)
        moves = [("received", "resulted", 900), ("resulted", "verified", 600), ("ordered", "received", 300)]
        for old, new, typical in moves:
            # Move the samples that have waited longer than a random share of the step's typical time;
            # STAT samples move three times as fast.
            wait = int(self.rng.uniform(0.3, 1.0) * typical)
            cursor.execute(
                "UPDATE lab_order SET status = %s,"
                " received_at = IF(%s = 'received', NOW(), received_at),"
                " resulted_at = IF(%s = 'resulted', NOW(), resulted_at),"
                " verified_at = IF(%s = 'verified', NOW(), verified_at)"
                " WHERE status = %s AND COALESCE(resulted_at, received_at, ordered_at) < NOW() - INTERVAL"
                " (CASE WHEN priority = 'STAT' THEN %s ELSE %s END) SECOND",
                (new, new, new, new, old, wait // 3, wait),
            )
            if new == "verified" and cursor.rowcount:
                cursor.execute(
                    "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at)"
                    " VALUES ('LIS-RESULTS', NULL, 'out', 'ORU^R01', NOW())"
                )
            if new == "resulted" and cursor.rowcount and self.rng.random() < 0.3:
                cursor.execute(
                    "INSERT INTO critical_value (order_id, detected_at) SELECT id, NOW() FROM lab_order"
                    " WHERE status = 'resulted' AND resulted_at >= NOW() - INTERVAL 1 SECOND LIMIT 1"
                )
        # Analyzers of staffed sections report; the others are idle outside their hours.
        cursor.execute(
            "INSERT INTO message_log (interface, analyzer, direction, message_type, logged_at)"
            " SELECT a.interface, a.code, 'in', 'ORU^R01', NOW() FROM analyzer a"
            " JOIN lab_section s ON s.code = a.section"
            " WHERE s.opens IS NULL OR (LOCATE(WEEKDAY(NOW()), s.weekdays) > 0"
            " AND CURTIME() >= s.opens AND CURTIME() < s.closes)"
        )
        cursor.execute(
            "UPDATE critical_value SET notified_at = NOW(), notified_role = 'doctor'"
            " WHERE notified_at IS NULL AND detected_at < NOW() - INTERVAL 180 SECOND"
        )


# --- The demo parts ---------------------------------------------------------------------------------------

AREA = "pacs_lis"
ORTHANC_DICOM, ORTHANC_HTTP, MODALITY_PORT, MLLP_PORT, LIS_DB_PORT, SIM_PORT = (
    14242, 18042, 11112, 12575, 13307, 18044,
)  # fmt: skip
ARCHIVE_AE = "ARCHIVE"
HOSPITAL_ZONE = "Asia/Shanghai"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
LIS_USER = "hospmon"
TICK_SECONDS = 20.0
NEW_STUDY_SECONDS = 180.0


def parts(run: Path, inventory: Path) -> list[Part]:
    """Write the area's configs under ``run/pacs_lis`` and return its processes in start order."""
    del inventory  # the monitor entries are in demo/inventory; nothing here depends on the copy
    folder = (run / AREA).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    storage = folder / "orthanc-db"
    for fresh in (storage, folder / "mariadb"):
        if fresh.exists():
            shutil.rmtree(fresh)  # each run starts from fresh studies and a freshly seeded LIS
    orthanc = {
        "Name": "demo-pacs-archive",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "Plugins": [DICOMWEB_PLUGIN],
        "HttpPort": ORTHANC_HTTP,
        "DicomPort": ORTHANC_DICOM,
        "DicomAet": ARCHIVE_AE,
        "DicomCheckCalledAet": True,
        "DicomModalities": {"hospmon": ["HOSPMON", "127.0.0.1", 104]},
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (folder / "orthanc.json").write_text(json.dumps(orthanc, indent=2), encoding="utf-8")
    password = folder / "lis-db-password"
    if not password.exists():
        password.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
        password.chmod(0o600)
    lis = yaml.safe_load((REPO / "deploy" / "exporters" / "lis.yml").read_text(encoding="utf-8"))
    lis["auths"]["lis-monitor"]["password_file"] = str(password)
    (folder / "lis.yml").write_text(
        yaml.safe_dump(lis, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    shutil.copy(REPO / "deploy" / "exporters" / "pacs.yml", folder / "pacs.yml")
    python = sys.executable
    return [
        Part(
            "orthanc",
            # Debian installs Orthanc in /usr/sbin, which is not on a user's PATH.
            [
                shutil.which("Orthanc", path=f"{os.environ.get('PATH', '')}:/usr/sbin") or "Orthanc",
                str(folder / "orthanc.json"),
            ],
            f"http://127.0.0.1:{ORTHANC_HTTP}/system",
            f"http://127.0.0.1:{ORTHANC_HTTP}/app/explorer.html",
            cwd=folder,
        ),
        Part(
            "pacs-lis-sim",
            [python, "-m", "demo.parts.pacs_lis", str(folder)],
            f"http://127.0.0.1:{SIM_PORT}/ready",
            f"mllp://127.0.0.1:{MLLP_PORT}  mysql://127.0.0.1:{LIS_DB_PORT}/lis  dicom://127.0.0.1:{MODALITY_PORT}",
        ),
        Part(
            "lis-exporter",
            [
                python,
                "-m",
                "exporters.lis.main",
                f"--config.file={folder / 'lis.yml'}",
                *listen(19107),
            ],
            "http://127.0.0.1:19107/-/healthy",
            "http://127.0.0.1:19107",
        ),
        Part(
            "pacs-exporter",
            [
                python,
                "-m",
                "exporters.pacs.main",
                f"--config.file={folder / 'pacs.yml'}",
                *listen(19108),
            ],
            "http://127.0.0.1:19108/-/healthy",
            "http://127.0.0.1:19108",
        ),
    ]


def listen(port: int) -> list[str]:
    """Return the flag that keeps an exporter on loopback."""
    return [f"--web.listen-address=127.0.0.1:{port}"]


def _as_root() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


def _wait(check: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except Exception as exc:
            if time.monotonic() > end:
                raise RuntimeError(f"{what} not ready after {timeout:.0f} s: {exc}") from None
        time.sleep(0.2)


class Simulator:
    """The simulated modality node, LIS database and MLLP interface of the demo, and their activity."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.zone = ZoneInfo(HOSPITAL_ZONE)
        self.children: list[subprocess.Popen[bytes]] = []
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
        mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin") or "mariadbd"
        data = self.folder / "mariadb"
        self.socket = str(self.folder / "mariadb.sock")
        if not (data / "mysql").exists():
            subprocess.run(
                ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--skip-test-db",
                 "--auth-root-authentication-method=normal", *_as_root()],
                check=True, capture_output=True,
            )  # fmt: skip
        offset = dt.datetime.now(self.zone).strftime("%z")
        self._spawn(
            [mariadbd, "--no-defaults", f"--datadir={data}", f"--port={LIS_DB_PORT}",
             "--bind-address=127.0.0.1", f"--socket={self.socket}", "--skip-name-resolve",
             f"--pid-file={self.folder / 'mariadb.pid'}",
             f"--default-time-zone={offset[:3]}:{offset[3:]}", "--innodb-buffer-pool-size=32M",
             "--performance-schema=OFF", f"--log-error={self.folder / 'mariadb.err'}", *_as_root()],
            "mariadb.log",
        )  # fmt: skip
        _wait(lambda: self.admin().close(), "MariaDB")
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
        import pymysql

        return pymysql.connect(unix_socket=self.socket, user="root", autocommit=True, charset="utf8mb4")

    # The PACS -----------------------------------------------------------------------------------------

    def start_modalities(self) -> None:
        """Load the synthetic studies into the modality stores and the archive, then start dcmqrscp."""
        base = self.folder / "modalities"
        if base.exists():
            shutil.rmtree(base)
        now = self.now()
        minutes = [10, 40, 95, 150, 200, 260]
        plan = [  # AE title, modality, ages in minutes, ages of studies never routed to the archive
            ("CT1", "CT", minutes, []),
            ("MR1", "MR", minutes[1:4], []),
            ("DRED1", "DX", minutes[:4], [95]),
        ]
        table = []
        for ae, modality, ages, unrouted in plan:
            (base / ae).mkdir(parents=True)
            table.append(f"{ae} {base / ae} RW (200, 64mb) ANY")
            files = []
            for age in ages:
                instances = synthetic_study([modality], now - dt.timedelta(minutes=age))
                files += write_instances(instances, base / "files")
                if age not in unrouted:
                    self.archive(instances)
            subprocess.run(["dcmqridx", str(base / ae), *map(str, files)], check=True, capture_output=True)
        for modality, age in [("US", 30), ("US", 70), ("US", 120), ("MG", 45), ("MG", 180)]:
            self.archive(synthetic_study([modality], now - dt.timedelta(minutes=age)))
        config = self.folder / "dcmqrscp.cfg"
        config.write_text(
            f"NetworkTCPPort = {MODALITY_PORT}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
            "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
            "AETable BEGIN\n" + "\n".join(table) + "\nAETable END\n",
            encoding="utf-8",
        )
        proc = self._spawn(["dcmqrscp", "-c", str(config), str(MODALITY_PORT)], "dcmqrscp.log")

        def accepting() -> None:
            if proc.poll() is not None:
                raise RuntimeError(f"dcmqrscp exited with {proc.returncode}; see dcmqrscp.log")
            socket.create_connection(("127.0.0.1", MODALITY_PORT), timeout=1).close()

        _wait(accepting, "dcmqrscp")

    def archive(self, instances: Iterable[Dataset]) -> None:
        """Store instances in the Orthanc archive through its REST API."""
        for ds in instances:
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            request = urllib.request.Request(
                f"http://127.0.0.1:{ORTHANC_HTTP}/instances", data=buffer.getvalue(), method="POST"
            )
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our loopback Orthanc
                pass

    def new_ct_study(self) -> None:
        """Acquire a CT study on ``CT1`` (C-STORE to the modality node) and route it to the archive."""
        from pynetdicom import AE

        instances = synthetic_study(["CT"], self.now())
        ae = AE(ae_title="CT1")
        ae.add_requested_context(SECONDARY_CAPTURE, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", MODALITY_PORT, ae_title="CT1")
        if assoc.is_established:
            for ds in instances:
                assoc.send_c_store(ds)
            assoc.release()
        self.archive(instances)

    # The MLLP interface and the readiness page -----------------------------------------------------------

    def start_mllp(self) -> None:
        """Answer every HL7 v2 message on 127.0.0.1:12575 with an AA acknowledgement (hl7apy's server)."""
        from hl7apy.mllp import MLLPServer

        handlers = {kind: (AckHandler,) for kind in ("ORM^O01", "ADT^A01", "ORU^R01")}
        server = MLLPServer("127.0.0.1", MLLP_PORT, handlers, timeout=10)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="mllp", daemon=True).start()

    def start_status(self) -> None:
        """Serve ``/ready`` on 127.0.0.1:18044: 200 once every simulated system runs."""
        sim = self

        class Status(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = sim.ready.is_set() and all(c.poll() is None for c in sim.children)
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(b"ready\n" if ok else b"starting\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", SIM_PORT), Status)
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


class AckHandler(MllpHandler):  # type: ignore[misc]
    """Acknowledge any message with AA, echoing its control id; the message itself is not kept."""

    def reply(self) -> str:
        """Return the framed ACK."""
        segments = [s for s in str(self.incoming_message).replace("\n", "\r").split("\r") if s]
        fields = [*(segments[0].split("|") if segments else []), *[""] * 10]
        control, stamp = fields[9], time.strftime("%Y%m%d%H%M%S")
        ack = f"MSH|^~\\&|LIS|LAB|{fields[2]}|{fields[3]}|{stamp}||ACK|ACK{control}|P|2.5\rMSA|AA|{control}\r"
        return f"\x0b{ack}\x1c\x0d"


def main(argv: list[str] | None = None) -> int:
    """Run the simulated PACS and LIS systems in the folder `parts` prepared."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m demo.parts.pacs_lis RUN/pacs_lis", file=sys.stderr)
        return 2
    return Simulator(Path(args[0]).resolve()).run()


if __name__ == "__main__":
    raise SystemExit(main())

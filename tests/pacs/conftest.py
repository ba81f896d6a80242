"""DICOM peers that check the called AE title: dcmtk's dcmqrscp and Orthanc; the PACS exporter in-process.

Neither can bind one address (dcmtk 3.6.7, Orthanc 1.10): both listen for DICOM on every interface, on a free
port. Orthanc's HTTP API (REST and DICOMweb) refuses clients other than loopback.

Both hold synthetic studies (`PLAN`): dcmqrscp plays a modality's or gateway's store, Orthanc the archive,
which lacks some of the source's studies and holds one of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.pacs.studies import synthetic_study, write_instances
from exporters.core.server import ExporterApp, RunningServer
from exporters.pacs.main import PacsExporter
from tests.conftest import LOOPBACK_ADHOC_YAML
from tests.peers import tcp_process
from tests.servers import PACKAGES, free_port, process, require

ARCHIVE_AE = "HOSPMON_ARC"
ORTHANC_AE = "HOSPMON_ORTHANC"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
NOW = dt.datetime.now()
PACKAGES.setdefault("dcmqridx", "dcmtk")


def require_file(path: str, package: str) -> str:
    """Return `path`, failing the test when the package that installs it is missing."""
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: apt-get install {package} (make deps installs it)", pytrace=False)
    return path


@dataclass(frozen=True)
class PlannedStudy:
    """A synthetic study: its modalities, how long ago it was made, and which nodes hold it."""

    modalities: tuple[str, ...]
    age: dt.timedelta
    on_source: bool
    on_archive: bool

    @property
    def when(self) -> dt.datetime:
        return NOW - self.age


H, M = dt.timedelta(hours=1), dt.timedelta(minutes=1)
PLAN = [
    PlannedStudy(("CT", "SR"), 3 * H, True, True),  # routed; its SR series is not counted
    PlannedStudy(("CT",), 2 * H, True, False),  # unrouted for two hours
    PlannedStudy(("MR",), 2 * H, True, True),
    PlannedStudy(("DX",), 90 * M, True, False),  # unrouted
    PlannedStudy(("US",), 1 * M, True, False),  # too young to be expected on the archive
    PlannedStudy(("MG",), 1 * H, False, True),  # only on the archive
    PlannedStudy(("XC",), 3 * H, True, True),  # a modality outside the module's list: "other"
]


@pytest.fixture(scope="session")
def study_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Write the planned studies: the files for the source and for the archive."""
    folder = tmp_path_factory.mktemp("studies")
    files: dict[str, list[Path]] = {"source": [], "archive": []}
    for i, planned in enumerate(PLAN):
        paths = write_instances(synthetic_study(planned.modalities, planned.when), folder / str(i))
        if planned.on_source:
            files["source"] += paths
        if planned.on_archive:
            files["archive"] += paths
    return files


@dataclass(frozen=True)
class Scp:
    """A running DICOM SCP, and the base URL of its HTTP API when it has one."""

    port: int
    ae_title: str
    http: str = ""

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def dcmqrscp(tmp_path_factory: pytest.TempPathFactory, study_files: dict[str, list[Path]]) -> Iterator[Scp]:
    """Run dcmqrscp knowing only the called AE title ``HOSPMON_ARC``, holding the source's studies."""
    binary = require("dcmqrscp")
    folder = tmp_path_factory.mktemp("dcmqrscp")
    (folder / "db").mkdir()
    index = [require("dcmqridx"), str(folder / "db"), *map(str, study_files["source"])]
    subprocess.run(index, check=True, capture_output=True)
    port = free_port()
    config = folder / "dcmqrscp.cfg"
    config.write_text(
        f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
        "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
        f"AETable BEGIN\n{ARCHIVE_AE} {folder / 'db'} RW (10, 16mb) ANY\nAETable END\n"
    )
    # --single-process crashes dcmqrscp 3.6.7 after the first association; it forks one child each.
    argv = [binary, "-c", str(config), str(port)]
    with tcp_process(argv, port, folder / "dcmqrscp.log"):
        yield Scp(port, ARCHIVE_AE)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory, study_files: dict[str, list[Path]]) -> Iterator[Scp]:
    """Run Orthanc as ``HOSPMON_ORTHANC`` (checking the called AE) with DICOMweb and the archive's studies.

    C-FIND is allowed to the calling AE ``HOSPMON`` only, registered as a modality as a site would.
    """
    binary = require("Orthanc")
    folder = tmp_path_factory.mktemp("orthanc")
    dicom_port, http_port = free_port(), free_port()
    config = {
        "Name": "hospmon-test",
        "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"),
        "Plugins": [require_file(DICOMWEB_PLUGIN, "orthanc-dicomweb")],
        "DicomModalities": {"hospmon": ["HOSPMON", "127.0.0.1", 104]},
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": ORTHANC_AE,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    argv = [binary, str(folder / "orthanc.json")]
    http = f"http://127.0.0.1:{http_port}"
    with process(argv, f"{http}/system", folder / "orthanc.log"):
        for path in study_files["archive"]:
            upload = urllib.request.Request(f"{http}/instances", data=path.read_bytes(), method="POST")
            with urllib.request.urlopen(upload, timeout=10) as resp:
                assert resp.status == 200
        yield Scp(dicom_port, ORTHANC_AE, http)


@pytest.fixture(params=["dcmqrscp", "orthanc"])
def scp(request: pytest.FixtureRequest) -> Scp:
    """Each DICOM peer in turn."""
    peer: Scp = request.getfixturevalue(request.param)
    return peer


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[RunningServer]:
    """Run the PACS exporter with an ``echo`` module calling as HOSPMON and a module with a 1 s cap."""
    config = tmp_path / "pacs.yml"
    config.write_text(
        LOOPBACK_ADHOC_YAML + "modules:\n"
        f"  echo: {{calling_ae: HOSPMON, called_ae: {ARCHIVE_AE}}}\n"
        f"  echo_short: {{calling_ae: HOSPMON, called_ae: {ARCHIVE_AE}, timeout_seconds: 1}}\n"
    )
    with RunningServer(ExporterApp(PacsExporter(), config), "127.0.0.1", 0) as server:
        yield server


@pytest.fixture
def archive_exporter(tmp_path: Path, orthanc: Scp) -> Iterator[RunningServer]:
    """Run the PACS exporter with C-FIND, routing (to the Orthanc archive), web and storage modules."""
    config = tmp_path / "pacs.yml"
    config.write_text(
        LOOPBACK_ADHOC_YAML + "modules:\n"
        f"  find: {{prober: find, calling_ae: HOSPMON, modalities: [CT, MR, DX, US, MG]}}\n"
        "  routing:\n"
        "    prober: routing\n"
        "    modalities: [CT, MR, DX, US, MG]\n"
        f"    archive: {{host: 127.0.0.1, port: {orthanc.port}, called_ae: {ORTHANC_AE}}}\n"
        "    after_minutes: 30\n"
        "  find_few: {prober: find, max_studies: 2}\n"
        "  qido: {prober: qido}\n"
        "  orthanc: {prober: orthanc, capacity_bytes: 1.0e+9}\n"
        f"  volume: {{prober: storage, path: {tmp_path}}}\n"
    )
    with RunningServer(ExporterApp(PacsExporter(), config), "127.0.0.1", 0) as server:
        yield server

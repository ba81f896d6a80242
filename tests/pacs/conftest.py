"""DICOM peers that check the called AE title: dcmtk's dcmqrscp and Orthanc; the PACS exporter in-process.

Neither can bind one address (dcmtk 3.6.7, Orthanc 1.10): both listen for DICOM on every interface, on a free
port. Orthanc's HTTP API, used only as its readiness check, refuses clients other than loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exporters.core.server import ExporterApp, RunningServer
from exporters.pacs.main import PacsExporter
from tests.peers import tcp_process
from tests.servers import free_port, process, require

ARCHIVE_AE = "HOSPMON_ARC"
ORTHANC_AE = "HOSPMON_ORTHANC"


@dataclass(frozen=True)
class Scp:
    """A running DICOM SCP."""

    port: int
    ae_title: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def dcmqrscp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scp]:
    """Run dcmqrscp knowing only the called AE title ``HOSPMON_ARC``; any calling AE may connect."""
    binary = require("dcmqrscp")
    folder = tmp_path_factory.mktemp("dcmqrscp")
    (folder / "db").mkdir()
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
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scp]:
    """Run Orthanc with the AE title ``HOSPMON_ORTHANC``, checking the called AE title, without plugins."""
    binary = require("Orthanc")
    folder = tmp_path_factory.mktemp("orthanc")
    dicom_port, http_port = free_port(), free_port()
    config = {
        "Name": "hospmon-test",
        "StorageDirectory": str(folder / "db"),
        "IndexDirectory": str(folder / "db"),
        "Plugins": [],
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": ORTHANC_AE,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    argv = [binary, str(folder / "orthanc.json")]
    with process(argv, f"http://127.0.0.1:{http_port}/system", folder / "orthanc.log"):
        yield Scp(dicom_port, ORTHANC_AE)


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
        "modules:\n"
        f"  echo: {{calling_ae: HOSPMON, called_ae: {ARCHIVE_AE}}}\n"
        f"  echo_short: {{calling_ae: HOSPMON, called_ae: {ARCHIVE_AE}, timeout_seconds: 1}}\n"
    )
    with RunningServer(ExporterApp(PacsExporter(), config), "127.0.0.1", 0) as server:
        yield server

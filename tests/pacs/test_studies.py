"""C-FIND counts, routing completeness, QIDO-RS, Orthanc statistics and volume use, on dcmtk and Orthanc."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from pynetdicom import AE, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
)

from exporters.core.server import RunningServer
from exporters.pacs.main import main
from tests.pacs.conftest import NOW, ORTHANC_AE, PLAN, Scp
from tests.pacs.test_echo import probe
from tests.peers import PEER_SOCKET_LEAK, stop_dicom_server

LABELLED = {"CT", "MR", "DX", "US", "MG"}


def value(body: str, series: str) -> float:
    """Return the sample `series` (``name{a="1",b="2"}``, labels in any order) from an exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    name, _, rest = series.partition("{")
    wanted = dict(part.split("=", 1) for part in rest.rstrip("}").split(",") if part)
    wanted = {k: v.strip('"') for k, v in wanted.items()}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels == wanted:
                return float(sample.value)
    raise AssertionError(f"{series} not in:\n{body}")


def expected_today(on_archive: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    for study in PLAN:
        held = study.on_archive if on_archive else study.on_source
        if held and study.when.date() == NOW.date():
            for modality in {m for m in study.modalities if m != "SR"}:
                counts[modality if modality in LABELLED else "other"] += 1
    return counts


@pytest.mark.parametrize("node", ["dcmqrscp", "orthanc"])
def test_studies_today_by_modality(
    archive_exporter: RunningServer, node: str, request: pytest.FixtureRequest
) -> None:
    scp: Scp = request.getfixturevalue(node)
    status, body = probe(archive_exporter, f"target={scp.target}&module=find&called_ae={scp.ae_title}")
    assert status == 200
    assert 'hospmon_probe_success{module="find"} 1.0' in body, body
    expected = expected_today(on_archive=node == "orthanc")
    for modality in [*sorted(LABELLED), "other"]:
        series = f'hospmon_dicom_studies_today{{called_ae="{scp.ae_title}",modality="{modality}"}}'
        assert value(body, series) == expected.get(modality, 0), modality
    assert 0 < value(body, f'hospmon_dicom_find_seconds{{called_ae="{scp.ae_title}"}}') < 5
    assert "SYNTHETIC" not in body and "1.2.826" not in body  # neither patient nor UID leaves


def test_routing_counts_studies_missing_on_the_archive(
    archive_exporter: RunningServer, dcmqrscp: Scp
) -> None:
    status, body = probe(
        archive_exporter, f"target={dcmqrscp.target}&module=routing&called_ae={dcmqrscp.ae_title}"
    )
    assert status == 200
    assert 'hospmon_probe_success{module="routing"} 1.0' in body, body
    labels = f'source_ae="{dcmqrscp.ae_title}",archive_ae="{ORTHANC_AE}"'
    # Planned: CT 2 h and DX 90 min are missing; US (1 min) is too young; the rest are routed.
    for modality, missing in {"CT": 1, "DX": 1, "MR": 0, "US": 0, "MG": 0, "other": 0}.items():
        assert value(body, f'hospmon_dicom_studies_unrouted{{{labels},modality="{modality}"}}') == missing
    assert value(body, f"hospmon_dicom_routing_checked_studies{{{labels}}}") == 5
    oldest = value(body, f"hospmon_dicom_unrouted_oldest_age_seconds{{{labels}}}")
    assert 7100 < oldest < 7200 + (time.time() - NOW.timestamp()) + 5


def test_too_many_matches_fail_the_count(archive_exporter: RunningServer, orthanc: Scp) -> None:
    _, body = probe(archive_exporter, f"target={orthanc.target}&module=find_few&called_ae={ORTHANC_AE}")
    if sum(expected_today(on_archive=True).values()) > 2:
        assert 'hospmon_probe_failure{module="find_few",reason="check_failed"} 1.0' in body


@pytest.mark.filterwarnings(PEER_SOCKET_LEAK)
def test_find_refused_by_the_peer_is_rejected(archive_exporter: RunningServer) -> None:
    def refuse(_event: evt.Event) -> object:
        yield 0xC000, None  # "unable to process"

    scp = AE(ae_title="PICKY")
    scp.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    scp.acse_timeout = 1  # the probe's TCP pre-check opens a connection that never associates
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, refuse)])
    assert server is not None
    try:
        _, body = probe(
            archive_exporter, f"target=127.0.0.1:{server.server_address[1]}&module=find&called_ae=PICKY"
        )
    finally:
        stop_dicom_server(server)
    assert 'hospmon_probe_failure{module="find",reason="rejected"} 1.0' in body


@pytest.mark.filterwarnings(PEER_SOCKET_LEAK)
def test_find_peer_that_never_answers_times_out(archive_exporter: RunningServer) -> None:
    release = threading.Event()

    def hold(_event: evt.Event) -> object:
        release.wait(10)
        yield 0x0000, None

    scp = AE(ae_title="SLOW")
    scp.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    scp.acse_timeout = 1  # the probe's TCP pre-check opens a connection that never associates
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, hold)])
    assert server is not None
    try:
        start = time.monotonic()
        _, body = probe(
            archive_exporter, f"target=127.0.0.1:{server.server_address[1]}&module=find&called_ae=SLOW", "2.5"
        )
        elapsed = time.monotonic() - start
    finally:
        release.set()
        stop_dicom_server(server)
    assert 'hospmon_probe_failure{module="find",reason="timeout"} 1.0' in body
    assert elapsed < 2.5


def test_qido_rs_times_todays_search(archive_exporter: RunningServer, orthanc: Scp) -> None:
    _, body = probe(archive_exporter, f"target={orthanc.http}/dicom-web&module=qido")
    assert 'hospmon_probe_success{module="qido"} 1.0' in body, body
    assert value(body, 'hospmon_dicomweb_qido_studies{module="qido"}') == sum(
        1 for s in PLAN if s.on_archive and s.when.date() == NOW.date()
    )
    assert 0 < value(body, 'hospmon_dicomweb_qido_seconds{module="qido"}') < 5
    assert "SYNTHETIC" not in body


def test_orthanc_statistics_and_storage(archive_exporter: RunningServer, orthanc: Scp) -> None:
    _, body = probe(archive_exporter, f"target={orthanc.http}&module=orthanc")
    assert 'hospmon_probe_success{module="orthanc"} 1.0' in body, body
    archived = [s for s in PLAN if s.on_archive]
    assert value(body, 'hospmon_orthanc_studies{module="orthanc"}') == len(archived)
    assert value(body, 'hospmon_orthanc_instances{module="orthanc"}') == sum(
        len(s.modalities) for s in archived
    )
    assert value(body, 'hospmon_pacs_storage_used_bytes{module="orthanc"}') > 0
    assert value(body, 'hospmon_pacs_storage_capacity_bytes{module="orthanc"}') == 1e9


def test_volume_use(archive_exporter: RunningServer) -> None:
    _, body = probe(archive_exporter, "target=archive-volume&module=volume")
    used = value(body, 'hospmon_pacs_storage_used_bytes{module="volume"}')
    assert 0 < used <= value(body, 'hospmon_pacs_storage_capacity_bytes{module="volume"}')


def test_target_may_name_the_called_ae(archive_exporter: RunningServer, orthanc: Scp) -> None:
    _, body = probe(archive_exporter, f"target={ORTHANC_AE}@{orthanc.target}&module=find")
    assert 'hospmon_probe_success{module="find"} 1.0' in body
    assert f'hospmon_dicom_find_studies{{called_ae="{ORTHANC_AE}"}}' in body
    assert probe(archive_exporter, f"target={'A' * 17}@{orthanc.target}&module=find")[0] == 400


def test_targets_must_fit_the_module(archive_exporter: RunningServer, orthanc: Scp) -> None:
    assert probe(archive_exporter, f"target={orthanc.target}&module=qido")[0] == 400
    assert probe(archive_exporter, f"target={orthanc.http}&module=find")[0] == 400
    assert probe(archive_exporter, f"target={orthanc.http}&module=find,qido")[0] == 400


def test_config_faults_are_reported_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "pacs.yml"
    bad.write_text(
        "modules:\n"
        "  today: {prober: find, timezone: Mars/Olympus}\n"
        "  routed: {prober: routing}\n"
        "  web: {prober: qido, http: {auth: nobody}}\n"
        "  what: {prober: telepathy}\n"
    )
    assert main(["--config.file", str(bad), "--check-config"]) == 1
    err = capsys.readouterr().err
    assert "Mars/Olympus" in err and "modules.routed" in err and "archive" in err
    assert "what" in err and "prober must be one of" in err
    bad.write_text("modules:\n  web: {prober: qido, http: {auth: nobody}}\n")
    assert main(["--config.file", str(bad), "--check-config"]) == 1
    assert "unknown auth nobody" in capsys.readouterr().err

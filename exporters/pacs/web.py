"""The PACS archive over HTTP, through the core's HTTP probe: DICOMweb QIDO-RS and Orthanc's REST API.

Samples::

    hospmon_dicomweb_qido_seconds{module="qido"} 0.021
    hospmon_dicomweb_qido_studies{module="qido"} 37
    hospmon_orthanc_studies{module="orthanc"} 1520
    hospmon_orthanc_instances{module="orthanc"} 412311
    hospmon_pacs_storage_used_bytes{module="orthanc"} 8.2e+11
    hospmon_pacs_storage_capacity_bytes{module="orthanc"} 2e+13

QIDO-RS answers hold patient names and identifiers: the body is parsed to count its entries and dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.http import HttpResult, auth_headers, fetch, http_metrics
from exporters.core.httpchecks import run_checks
from exporters.core.httpconfig import AuthSpec, target_url
from exporters.core.probe import Deadline, ProbeFailed
from exporters.pacs.config import OrthancModule, QidoModule
from exporters.pacs.find import now_in, zone

# /statistics key -> (metric suffix, help)
ORTHANC_COUNTS = {
    "CountPatients": ("patients", "Patients the archive holds (a count; no patient is named)."),
    "CountStudies": ("studies", "Studies the archive holds."),
    "CountSeries": ("series", "Series the archive holds."),
    "CountInstances": ("instances", "Instances (images and other objects) the archive holds."),
}


def _gauge(name: str, help_: str, module: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_, labels=["module"])
    family.add_metric([module], value)
    return family


def qido(
    module: str, spec: QidoModule, target: str, auths: Mapping[str, AuthSpec], file: Path, deadline: Deadline
) -> Iterator[Metric]:
    """Search today's studies with QIDO-RS and time it."""
    today = now_in(zone(name=spec.timezone)).strftime("%Y%m%d")
    result = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, result)
    url = target_url(target, f"studies?StudyDate={today}&limit={spec.limit}&includefield=00080061")
    fetch(
        url,
        spec.http,
        deadline,
        headers={"Accept": "application/dicom+json"},
        auth=auth,
        result=result,
        module=module,
    )
    # 204 No Content is a valid empty answer.
    matches = result.json() if result.body.strip() else []
    if not isinstance(matches, list) or not all(isinstance(m, dict) for m in matches):
        raise ProbeFailed("bad_response", "QIDO-RS answer is not a JSON array of datasets")
    run_checks(spec.http, result.body)
    yield _gauge("hospmon_dicomweb_qido_seconds", "Time the QIDO-RS study search took.", module, result.total)
    yield _gauge(
        "hospmon_dicomweb_qido_studies",
        "Studies the QIDO-RS search for today returned (at most the module's limit).",
        module,
        len(matches),
    )
    yield from http_metrics(module, result)


def _number(document: dict[str, object], key: str) -> float:
    value = document.get(key)
    try:
        return float(value)  # type: ignore[arg-type]  # TotalDiskSize comes as a string
    except (TypeError, ValueError):
        raise ProbeFailed("bad_response", f"/statistics has no number {key}") from None


def orthanc(
    module: str,
    spec: OrthancModule,
    target: str,
    auths: Mapping[str, AuthSpec],
    file: Path,
    deadline: Deadline,
) -> Iterator[Metric]:
    """Read Orthanc's ``/statistics`` and report counts and disk use."""
    result = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, result)
    fetch(target_url(target, "statistics"), spec.http, deadline, auth=auth, result=result, module=module)
    document = result.json()
    if not isinstance(document, dict):
        raise ProbeFailed("bad_response", "/statistics is not a JSON object")
    run_checks(spec.http, result.body)
    for key, (suffix, help_) in ORTHANC_COUNTS.items():
        yield _gauge(f"hospmon_orthanc_{suffix}", help_, module, _number(document, key))
    yield _gauge(
        "hospmon_orthanc_uncompressed_size_bytes",
        "Size of the stored DICOM files before Orthanc's compression.",
        module,
        _number(document, "TotalUncompressedSize"),
    )
    yield from storage_metrics(module, _number(document, "TotalDiskSize"), spec.capacity_bytes)
    yield from http_metrics(module, result)


def storage_metrics(module: str, used: float, capacity: float | None) -> list[Metric]:
    """Return the archive's used bytes and, when known, its capacity."""
    families: list[Metric] = [
        _gauge("hospmon_pacs_storage_used_bytes", "Bytes the archive's images take.", module, used)
    ]
    if capacity is not None:
        families.append(
            _gauge(
                "hospmon_pacs_storage_capacity_bytes",
                "Bytes the archive may hold (configured quota or volume size).",
                module,
                capacity,
            )
        )
    return families


def volume(module: str, path: Path) -> list[Metric]:
    """Return used and total bytes of the file system holding `path`."""
    try:
        stat = os.statvfs(path)
    except OSError as exc:
        raise ProbeFailed("unreachable", f"cannot read the volume: {exc.strerror}") from None
    used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    # Capacity as an unprivileged writer sees it: the root reserve is not room for images.
    return storage_metrics(module, float(used), float(used + stat.f_bavail * stat.f_frsize))

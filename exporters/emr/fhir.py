"""FHIR R4 probes: CapabilityStatement, counted searches and a read of a synthetic test resource.

Samples::

    hospmon_fhir_info{module="meta",fhir_version="4.0.1",software_name="HAPI",software_version="7.0.0"} 1
    hospmon_fhir_search_duration_seconds{module="search",resource_type="Patient"} 0.021
    hospmon_fhir_resources{module="search",resource_type="Patient"} 1342
    hospmon_fhir_read_duration_seconds{module="read",resource_type="Patient"} 0.008
    hospmon_fhir_document_retrieval_duration_seconds{module="doc",step="reference"} 0.006
    hospmon_fhir_document_retrieval_duration_seconds{module="doc",step="content"} 0.031
    hospmon_fhir_document_size_bytes{module="doc"} 48213

Only counts, versions and timings leave this module: resources are parsed to check them and dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporters.core.http import HttpResult, auth_headers, fetch, http_metrics, session_metrics
from exporters.core.httpchecks import run_checks
from exporters.core.httpconfig import AuthSpec, target_url
from exporters.core.probe import Deadline, ProbeFailed
from exporters.emr.config import EmrModule

ACCEPT = {"Accept": "application/fhir+json"}
MAX_LABEL = 64


def _label(value: Any) -> str:
    """Return a server-given string fit for a label: text only, bounded in length."""
    return value[:MAX_LABEL] if isinstance(value, str) else ""


def _resource(result: HttpResult, resource_type: str) -> dict[str, Any]:
    document = result.json()
    if not isinstance(document, dict):
        raise ProbeFailed("bad_response", f"expected a {resource_type}")
    if document.get("resourceType") == "OperationOutcome":
        raise ProbeFailed("bad_response", "server sent an OperationOutcome")
    if document.get("resourceType") != resource_type:
        raise ProbeFailed("bad_response", f"expected a {resource_type}")
    return document


def metadata(
    module: str, spec: EmrModule, target: str, auths: Mapping[str, AuthSpec], file: Path, deadline: Deadline
) -> Iterator[Metric]:
    """Read ``/metadata`` and describe the server."""
    result = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, result)
    fetch(
        target_url(target, "metadata"),
        spec.http,
        deadline,
        headers=ACCEPT,
        auth=auth,
        result=result,
        module=module,
    )
    statement = _resource(result, "CapabilityStatement")
    run_checks(spec.http, result.body)
    software = statement.get("software")
    software = software if isinstance(software, dict) else {}
    info = GaugeMetricFamily(
        "hospmon_fhir_info",
        "The FHIR server's CapabilityStatement: FHIR version and software.",
        labels=["module", "fhir_version", "software_name", "software_version"],
    )
    info.add_metric(
        [
            module,
            _label(statement.get("fhirVersion")),
            _label(software.get("name")),
            _label(software.get("version")),
        ],
        1.0,
    )
    yield info
    yield from http_metrics(module, result)


def search(
    module: str, spec: EmrModule, target: str, auths: Mapping[str, AuthSpec], file: Path, deadline: Deadline
) -> Iterator[Metric]:
    """Count each configured resource type with ``_summary=count``, timing each search."""
    first = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, first)
    duration = GaugeMetricFamily(
        "hospmon_fhir_search_duration_seconds",
        "How long a _summary=count search took.",
        labels=["module", "resource_type"],
    )
    count = GaugeMetricFamily(
        "hospmon_fhir_resources",
        "Resources a _summary=count search matched.",
        labels=["module", "resource_type"],
    )
    for i, resource_type in enumerate(spec.resource_types):
        result = first if i == 0 else HttpResult()
        url = target_url(target, f"{resource_type}?_summary=count")
        fetch(url, spec.http, deadline, headers=ACCEPT, auth=auth, result=result, module=module)
        bundle = _resource(result, "Bundle")
        total = bundle.get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise ProbeFailed("bad_response", f"{resource_type} search bundle has no total")
        run_checks(spec.http, result.body)
        duration.add_metric([module, resource_type], result.total)
        count.add_metric([module, resource_type], total)
    yield duration
    yield count
    yield from session_metrics(module, first)


def read(
    module: str, spec: EmrModule, target: str, auths: Mapping[str, AuthSpec], file: Path, deadline: Deadline
) -> Iterator[Metric]:
    """Read the synthetic test resource and check it is the one asked for."""
    assert spec.resource is not None
    resource_type, _, resource_id = spec.resource.partition("/")
    result = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, result)
    fetch(
        target_url(target, spec.resource),
        spec.http,
        deadline,
        headers=ACCEPT,
        auth=auth,
        result=result,
        module=module,
    )
    if _resource(result, resource_type).get("id") != resource_id:
        raise ProbeFailed("check_failed", "server returned another resource than the one read")
    run_checks(spec.http, result.body)
    duration = GaugeMetricFamily(
        "hospmon_fhir_read_duration_seconds",
        "How long the read of the synthetic test resource took.",
        labels=["module", "resource_type"],
    )
    duration.add_metric([module, resource_type], result.total)
    yield duration
    yield from http_metrics(module, result)


def _attachment_url(target: str, reference: dict[str, Any]) -> str:
    """Return where the DocumentReference's first attachment is, refusing another server than the EMR's."""
    content = reference.get("content")
    attachment = content[0].get("attachment") if isinstance(content, list) and content else None
    url = attachment.get("url") if isinstance(attachment, dict) else None
    if not isinstance(url, str) or not url:
        raise ProbeFailed("bad_response", "the DocumentReference has no attachment URL")
    resolved = urljoin(target.rstrip("/") + "/", url)
    base, found = urlsplit(target), urlsplit(resolved)
    if (found.scheme, found.netloc) != (base.scheme, base.netloc):
        raise ProbeFailed("check_failed", "the attachment is on another server than the EMR probed")
    return resolved


def document(
    module: str, spec: EmrModule, target: str, auths: Mapping[str, AuthSpec], file: Path, deadline: Deadline
) -> Iterator[Metric]:
    """Retrieve a synthetic document: its DocumentReference, then the attachment it points to.

    This is what a clinician waits for when opening a report; the content is measured and dropped.
    """
    assert spec.resource is not None
    resource_id = spec.resource.partition("/")[2]
    reference_result = HttpResult()
    auth = auth_headers(spec.http, auths, file, deadline, reference_result)
    fetch(target_url(target, spec.resource), spec.http, deadline, headers=ACCEPT, auth=auth,
          result=reference_result, module=module)  # fmt: skip
    reference = _resource(reference_result, "DocumentReference")
    if reference.get("id") != resource_id:
        raise ProbeFailed("check_failed", "server returned another resource than the one read")
    content_result = HttpResult()
    fetch(_attachment_url(target, reference), spec.http, deadline, headers={"Accept": "*/*"}, auth=auth,
          result=content_result)  # fmt: skip
    run_checks(spec.http, content_result.body)
    duration = GaugeMetricFamily(
        "hospmon_fhir_document_retrieval_duration_seconds",
        "How long retrieving the synthetic document took, by step: the DocumentReference, then its content.",
        labels=["module", "step"],
    )
    duration.add_metric([module, "reference"], reference_result.total)
    duration.add_metric([module, "content"], content_result.total)
    size = GaugeMetricFamily("hospmon_fhir_document_size_bytes", "Size of the retrieved document.",
                             labels=["module"])  # fmt: skip
    size.add_metric([module], len(content_result.body))
    yield duration
    yield size
    yield from http_metrics(module, content_result)

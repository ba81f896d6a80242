"""Study-level C-FIND: today's studies by modality, and studies a source holds that the archive lacks.

Only the study's UID, date, time and modalities are asked for; the UIDs are compared in memory and
dropped, and only counts leave this module. Samples::

    hospmon_dicom_studies_today{called_ae="ARCHIVE",modality="CT"} 42
    hospmon_dicom_find_seconds{called_ae="ARCHIVE"} 0.083
    hospmon_dicom_studies_unrouted{source_ae="CT1",archive_ae="ARCHIVE",modality="CT"} 1
    hospmon_dicom_routing_checked_studies{source_ae="CT1",archive_ae="ARCHIVE"} 17
    hospmon_dicom_unrouted_oldest_age_seconds{source_ae="CT1",archive_ae="ARCHIVE"} 3120
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
)

from exporters.core.probe import Deadline, ProbeFailed
from exporters.pacs.association import association, refresh_timeouts, timed_out
from exporters.pacs.config import FindModule, RoutingModule, StudyQuery

PENDING = frozenset({0xFF00, 0xFF01})
MODEL = StudyRootQueryRetrieveInformationModelFind


@dataclass(frozen=True)
class Study:
    """What the exporter keeps of one matched study, in memory only."""

    uid: str
    date: str
    time: str
    modalities: tuple[str, ...]


def _text(value: object) -> str:
    return str(value).strip() if value is not None else ""


def _multi(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    # pydicom gives a multi-valued element as a MultiValue sequence, a single value as a str.
    items = str(value).split("\\") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return tuple(sorted({str(v).strip().upper() for v in items if str(v).strip()}))


def c_find(
    assoc: Association, query: Dataset, timeout: float, deadline: Deadline, limit: int
) -> list[Dataset]:
    """Send one C-FIND and return the matches; a timeout, a failure status or too many matches fail."""
    wait = refresh_timeouts(assoc, timeout, deadline)
    started = time.perf_counter()
    matches: list[Dataset] = []
    for status, identifier in assoc.send_c_find(query, MODEL):
        if "Status" not in status:
            if timed_out(started, wait) or deadline.expired():
                raise ProbeFailed("timeout", "no C-FIND response")
            raise ProbeFailed("bad_response", "association aborted during the C-FIND")
        code = int(status.Status)
        if code == 0:
            return matches
        if code not in PENDING:
            raise ProbeFailed("rejected", f"C-FIND status 0x{code:04X}")
        if identifier is not None:
            matches.append(identifier)
        if len(matches) > limit:
            raise ProbeFailed("check_failed", f"more than {limit} matches; raise max_studies")
        if deadline.expired():
            raise ProbeFailed("timeout", "C-FIND still answering at the deadline")
        # Each response gets what is left of the deadline, not a fresh module timeout.
        wait = refresh_timeouts(assoc, timeout, deadline)
        started = time.perf_counter()
    raise ProbeFailed("bad_response", "C-FIND ended without a final status")


def _study_query(dates: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ""
    query.StudyDate = dates
    query.StudyTime = ""
    query.ModalitiesInStudy = ""
    return query


def _series_modalities(
    assoc: Association, uid: str, timeout: float, deadline: Deadline, limit: int
) -> tuple[str, ...]:
    """Ask the modality of each series, for SCPs (dcmtk's dcmqrscp) that leave ModalitiesInStudy empty."""
    query = Dataset()
    query.QueryRetrieveLevel = "SERIES"
    query.StudyInstanceUID = uid
    query.SeriesInstanceUID = ""
    query.Modality = ""
    found: set[str] = set()
    for match in c_find(assoc, query, timeout, deadline, limit):
        found.update(_multi(match.get("Modality")))
    return tuple(sorted(found))


def find_studies(
    host: str,
    port: int,
    calling_ae: str,
    called_ae: str,
    dates: str,
    spec: StudyQuery,
    timeout: float,
    deadline: Deadline,
    *,
    modalities: bool = True,
) -> tuple[list[Study], float]:
    """Return the studies of `dates` (``YYYYMMDD`` or a range) on the node, and the time the query took.

    With `modalities` false, studies whose modalities the node did not return are not asked series by series.
    """
    with association(host, port, calling_ae, called_ae, [MODEL], timeout, deadline) as opened:
        started = time.perf_counter()
        studies: list[Study] = []
        for match in c_find(opened.assoc, _study_query(dates), timeout, deadline, spec.max_studies):
            uid = _text(match.get("StudyInstanceUID"))
            if not uid:
                raise ProbeFailed("bad_response", "a C-FIND match has no StudyInstanceUID")
            found = _multi(match.get("ModalitiesInStudy"))
            if not found and modalities:
                found = _series_modalities(opened.assoc, uid, timeout, deadline, spec.max_studies)
            date, time_ = _text(match.get("StudyDate")), _text(match.get("StudyTime"))
            studies.append(Study(uid, date, time_, found))
        return studies, time.perf_counter() - started


def zone(spec: StudyQuery | None = None, name: str | None = None) -> dt.tzinfo | None:
    """Return the configured zone, or None for the exporter's local time."""
    name = name or (spec.timezone if spec else None)
    return ZoneInfo(name) if name else None


def now_in(tz: dt.tzinfo | None) -> dt.datetime:
    """Return the current time in `tz` (local time when None), without tzinfo."""
    return dt.datetime.now(tz).replace(tzinfo=None) if tz else dt.datetime.now()


def modality_labels(modalities: Iterable[str], spec: StudyQuery) -> set[str]:
    """Return the label values a study counts under: each imaging modality, unknown ones as ``other``."""
    known = set(spec.modalities)
    imaging = [m for m in modalities if m not in spec.ignore_modalities]
    return {m if m in known else "other" for m in imaging} or {"other"}


def study_time(study: Study) -> dt.datetime | None:
    """Return StudyDate and StudyTime as a naive datetime; midnight when the time is absent."""
    try:
        day = dt.datetime.strptime(study.date[:8], "%Y%m%d")
    except ValueError:
        return None
    digits = study.time.split(".")[0].replace(":", "")
    digits = (digits + "000000")[:6] if digits.isdigit() else "000000"
    try:
        return day.replace(hour=int(digits[:2]), minute=int(digits[2:4]), second=int(digits[4:6]))
    except ValueError:
        return day


def count_today(host: str, port: int, called_ae: str, spec: FindModule, deadline: Deadline) -> list[Metric]:
    """Count today's studies on the node by modality."""
    today = now_in(zone(spec)).strftime("%Y%m%d")
    studies, seconds = find_studies(
        host, port, spec.calling_ae, called_ae, today, spec, spec.timeout_seconds, deadline
    )
    counts: Counter[str] = Counter()
    for study in studies:
        counts.update(modality_labels(study.modalities, spec))
    per_modality = GaugeMetricFamily(
        "hospmon_dicom_studies_today",
        "Studies dated today on the node; a study counts once for each imaging modality it holds.",
        labels=["called_ae", "modality"],
    )
    for modality in [*spec.modalities, "other"]:
        per_modality.add_metric([called_ae, modality], counts.get(modality, 0))
    return [per_modality, *_find_stats(called_ae, seconds, len(studies))]


def _find_stats(called_ae: str, seconds: float, matches: int) -> list[Metric]:
    duration = GaugeMetricFamily(
        "hospmon_dicom_find_seconds",
        "Time from the study-level C-FIND request to its final response.",
        labels=["called_ae"],
    )
    duration.add_metric([called_ae], seconds)
    found = GaugeMetricFamily(
        "hospmon_dicom_find_studies", "Studies the C-FIND matched.", labels=["called_ae"]
    )
    found.add_metric([called_ae], matches)
    return [duration, found]


def routing(host: str, port: int, source_ae: str, spec: RoutingModule, deadline: Deadline) -> list[Metric]:
    """Count studies on the source older than ``after_minutes`` that the archive does not hold."""
    now = now_in(zone(spec))
    earliest = now - dt.timedelta(hours=spec.window_hours)
    cutoff = now - dt.timedelta(minutes=spec.after_minutes)
    dates = f"{earliest:%Y%m%d}-{now:%Y%m%d}"
    source, _ = find_studies(
        host, port, spec.calling_ae, source_ae, dates, spec, spec.timeout_seconds, deadline
    )
    due = []
    for study in source:
        when = study_time(study)
        if when is not None and earliest <= when <= cutoff:
            due.append((study, when))
    archive = spec.archive
    held: set[str] = set()
    if due:
        found, _ = find_studies(
            archive.host, archive.port, spec.calling_ae, archive.called_ae, dates, spec,
            spec.timeout_seconds, deadline, modalities=False,
        )  # fmt: skip
        held = {s.uid for s in found}
    missing: Counter[str] = Counter()
    oldest = 0.0
    for study, when in due:
        if study.uid not in held:
            missing.update(modality_labels(study.modalities, spec))
            oldest = max(oldest, (now - when).total_seconds())
    labels = [source_ae, archive.called_ae]
    unrouted = GaugeMetricFamily(
        "hospmon_dicom_studies_unrouted",
        "Studies on the source older than the routing delay and still missing on the archive.",
        labels=["source_ae", "archive_ae", "modality"],
    )
    for modality in [*spec.modalities, "other"]:
        unrouted.add_metric([*labels, modality], missing.get(modality, 0))
    checked = GaugeMetricFamily(
        "hospmon_dicom_routing_checked_studies",
        "Studies on the source old enough to be expected on the archive.",
        labels=["source_ae", "archive_ae"],
    )
    checked.add_metric(labels, len(due))
    age = GaugeMetricFamily(
        "hospmon_dicom_unrouted_oldest_age_seconds",
        "Age of the oldest study still missing on the archive (0 when none is).",
        labels=["source_ae", "archive_ae"],
    )
    age.add_metric(labels, oldest)
    return [unrouted, checked, age]

"""The PACS exporter's config file: named auths for the web modules and one entry per probe module.

Example::

    auths:
      orthanc: {basic: {username: hospmon, password_file: /etc/hospmon/orthanc.pw}}
    modules:
      echo: {calling_ae: HOSPMON, called_ae: ARCHIVE}
      studies_today: {prober: find, called_ae: ARCHIVE}
      routing:
        prober: routing
        archive: {host: pacs.example, port: 104, called_ae: ARCHIVE}
        after_minutes: 30
      qido: {prober: qido, http: {auth: orthanc}}
      orthanc: {prober: orthanc, capacity_bytes: 2.0e+13, http: {auth: orthanc}}
      archive_volume: {prober: storage, path: /srv/pacs}

``echo``, ``find`` and ``routing`` take ``target=HOST:PORT`` (a DICOM node); ``qido`` a DICOMweb base URL,
``orthanc`` Orthanc's REST base URL; ``storage`` reads the volume at its configured path on the exporter's
host and takes the target only as a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import annotated_types as at

from exporters.core.httpconfig import AuthSpec, HttpSpec, check_auths
from exporters.core.policy import Policy
from hospmon.config import Check, ConfigError, OneOf, Strict, load

# DICOM defined terms for imaging modalities (PS3.3 C.7.3.1.1.1) that become label values; others count
# as "other" so a misconfigured modality cannot grow the series count.
DEFAULT_MODALITIES = ["CT", "MR", "CR", "DX", "MG", "US", "XA", "RF", "NM", "PT"]
# Objects that accompany images (structured reports, key objects, presentation states, documents).
DEFAULT_IGNORED = ["SR", "KO", "PR", "DOC", "REG", "SEG"]


def check_ae_title(value: str) -> str:
    """Return `value` when it is a valid DICOM AE title (1-16 characters, no backslash or control)."""
    if not 0 < len(value) <= 16:
        raise ValueError("an AE title has 1 to 16 characters")
    if "\\" in value or not all(" " <= ch <= "~" for ch in value):
        raise ValueError("an AE title holds printable ASCII characters other than backslash")
    return value


AETitle = Annotated[str, Check(check_ae_title)]
Seconds = Annotated[float, at.Gt(0)]


@dataclass(frozen=True, kw_only=True)
class EchoModule(Strict):
    """Open an association, send a C-ECHO, release."""

    prober: Literal["echo"] = "echo"
    calling_ae: AETitle = "HOSPMON"
    called_ae: AETitle = "ANY-SCP"
    """Used unless the request gives ``called_ae``."""
    timeout_seconds: Seconds = 10.0
    """Cap of each network wait; the scrape deadline caps it further."""


@dataclass(frozen=True, kw_only=True)
class StudyQuery(Strict):
    """How study-level C-FIND results are turned into counts by modality."""

    modalities: Annotated[list[str], at.MinLen(1)] = field(default_factory=lambda: list(DEFAULT_MODALITIES))
    """Modalities reported by name; any other is counted as ``other``."""
    ignore_modalities: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORED))
    """Modalities not counted (reports and other non-image objects stored with a study)."""
    max_studies: Annotated[int, at.Ge(1)] = 5000
    """More matches than this fail the probe with check_failed instead of holding them all."""
    timezone: str | None = None
    """IANA zone of StudyDate and StudyTime (``Asia/Shanghai``); the exporter's local zone by default."""

    def __post_init__(self) -> None:
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {self.timezone!r}") from None
        bad = [m for m in [*self.modalities, *self.ignore_modalities] if not m.isalnum() or len(m) > 16]
        if bad:
            raise ValueError(f"not DICOM modality codes: {', '.join(bad)}")


@dataclass(frozen=True, kw_only=True)
class FindModule(StudyQuery):
    """Count the studies dated today on the target AE, by modality, with a study-level C-FIND."""

    prober: Literal["find"]
    calling_ae: AETitle = "HOSPMON"
    called_ae: AETitle = "ANY-SCP"
    timeout_seconds: Seconds = 10.0


@dataclass(frozen=True, kw_only=True)
class DicomNode(Strict):
    """A DICOM node the exporter queries besides the target."""

    host: Annotated[str, at.MinLen(1)]
    port: Annotated[int, at.Interval(ge=1, le=65535)]
    called_ae: AETitle


@dataclass(frozen=True, kw_only=True)
class RoutingModule(StudyQuery):
    """Count studies on the target (a modality or a gateway) still missing on the archive after a while."""

    prober: Literal["routing"]
    calling_ae: AETitle = "HOSPMON"
    called_ae: AETitle = "ANY-SCP"
    """The source's AE title, unless the request gives ``called_ae``."""
    archive: DicomNode
    after_minutes: Seconds = 30.0
    """A study is unrouted when it is older than this (by StudyDate and StudyTime) and not on the archive."""
    window_hours: Annotated[float, at.Interval(gt=0, le=168)] = 24.0
    """Only studies younger than this are checked."""
    timeout_seconds: Seconds = 10.0


@dataclass(frozen=True, kw_only=True)
class QidoModule(Strict):
    """Time a DICOMweb QIDO-RS search for today's studies: ``{target}/studies?StudyDate=today``."""

    prober: Literal["qido"]
    http: HttpSpec = field(default_factory=HttpSpec)
    limit: Annotated[int, at.Interval(ge=1, le=10000)] = 100
    timezone: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrthancModule(Strict):
    """Read Orthanc's ``/statistics``: studies, series, instances and disk use."""

    prober: Literal["orthanc"]
    http: HttpSpec = field(default_factory=HttpSpec)
    capacity_bytes: Annotated[float, at.Gt(0)] | None = None
    """The archive's capacity (Orthanc's MaximumStorageSize, or its volume's size), to report use against."""


@dataclass(frozen=True, kw_only=True)
class StorageModule(Strict):
    """Report used and total bytes of the archive volume mounted at `path` on the exporter's host."""

    prober: Literal["storage"]
    path: Path


PROBERS = {
    "echo": EchoModule,
    "find": FindModule,
    "routing": RoutingModule,
    "qido": QidoModule,
    "orthanc": OrthancModule,
    "storage": StorageModule,
}
Module = Annotated[
    EchoModule | FindModule | RoutingModule | QidoModule | OrthancModule | StorageModule,
    OneOf("prober", PROBERS, "echo"),
]
DICOM_PROBERS = frozenset({"echo", "find", "routing"})
WEB_PROBERS = frozenset({"qido", "orthanc"})


@dataclass(frozen=True, kw_only=True)
class PacsConfig(Policy):
    """The exporter's auths and modules, by name."""

    auths: dict[str, AuthSpec] = field(default_factory=dict)
    modules: Annotated[dict[str, Module], at.MinLen(1)]


def load_config(path: Path | None) -> PacsConfig:
    """Load and check the config file and the secrets its auths name."""
    if path is None:
        raise ConfigError.single("--config.file", "give the exporter's config file")
    config = load(PacsConfig, path)
    used = {
        name: m.http.auth for name, m in config.modules.items() if isinstance(m, QidoModule | OrthancModule)
    }
    check_auths(path, config.auths, used)
    return config

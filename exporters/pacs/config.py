"""The PACS exporter's config file: one entry per probe module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from hospmon.config import ConfigError, StrictModel, load


def check_ae_title(value: str) -> str:
    """Return `value` when it is a valid DICOM AE title (1-16 characters, no backslash or control)."""
    if not 0 < len(value) <= 16:
        raise ValueError("an AE title has 1 to 16 characters")
    if "\\" in value or not all(" " <= ch <= "~" for ch in value):
        raise ValueError("an AE title holds printable ASCII characters other than backslash")
    return value


AETitle = Annotated[str, AfterValidator(check_ae_title)]


class EchoModule(StrictModel):
    """Open an association, send a C-ECHO, release."""

    prober: Literal["echo"] = "echo"
    calling_ae: AETitle = "HOSPMON"
    called_ae: AETitle = "ANY-SCP"
    """Used unless the request gives ``called_ae``."""
    timeout_seconds: float = Field(10.0, gt=0)
    """Cap of each network wait; the scrape deadline caps it further."""


class PacsConfig(StrictModel):
    """The exporter's modules, by name."""

    modules: dict[str, EchoModule] = Field(min_length=1)


def load_config(path: Path | None) -> PacsConfig:
    """Load and check the config file."""
    if path is None:
        raise ConfigError.single("--config.file", "give the exporter's config file")
    return load(PacsConfig, path)

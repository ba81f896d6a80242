"""The inventory (CMDB) schema: departments, teams, services and configuration items.

One YAML file, or a folder of them, describes the hospital. Every file has the same shape, with any of the
top-level lists; the lists of all files are joined. Field checks live here; checks across entries
(references, duplicates, cycles) live in `validate.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, field_validator

from hospmon.config import StrictModel

_ID = r"^[a-z0-9][a-z0-9._-]*$"
Id = Annotated[str, Field(pattern=_ID, max_length=64)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


class Criticality(StrEnum):
    """How much patient care suffers when a department's systems fail."""

    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"


class Kind(StrEnum):
    """What a configuration item is."""

    switch = "switch"
    router = "router"
    firewall = "firewall"
    wireless = "wireless"
    server = "server"
    vm_host = "vm_host"
    virtual_machine = "virtual_machine"
    storage = "storage"
    ups = "ups"
    environment = "environment"
    database = "database"
    application = "application"
    interface_engine = "interface_engine"
    modality = "modality"
    workstation = "workstation"
    terminal = "terminal"
    """A doctor's or nurse's PC, a thin client: watched by the node/windows exporter or by ping."""
    kiosk = "kiosk"
    """A self-service registration and payment kiosk (自助机): ping, its service port, its in-service page."""
    printer = "printer"
    """A ward or wristband printer: Printer-MIB by SNMP, or its raw port."""


class Name(StrictModel):
    """A name in Chinese and English; at least one is given."""

    zh: str = ""
    en: str = ""

    def model_post_init(self, _context: object) -> None:
        """Refuse a name with neither language."""
        if not self.zh and not self.en:
            raise ValueError("give the name in zh, en or both")

    def __str__(self) -> str:
        return self.en or self.zh


def _period(value: str) -> str:
    match = _PERIOD.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a period like 08:00-12:00")
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end <= start or end > 24 * 60:
        raise ValueError(f"period {value!r} ends before it starts")
    return value


Period = Annotated[str, AfterValidator(_period)]


class Hours(StrictModel):
    """Opening hours on some days: weekday names, or ``working_days`` as the holiday calendar says."""

    days: list[str] = Field(min_length=1)
    periods: list[Period] = Field(min_length=1)

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[str]) -> list[str]:
        bad = [d for d in days if d not in (*WEEKDAYS, "working_days")]
        if bad:
            raise ValueError(f"unknown day {', '.join(bad)}; use {', '.join(WEEKDAYS)} or working_days")
        return days


class Department(StrictModel):
    """A clinical or administrative department and how critical it is."""

    id: Id
    name: Name
    criticality: Criticality
    hours: list[Hours] | None = None
    """None means always open (24/7)."""
    beds: int = Field(default=0, ge=0)
    """Staffed beds, for the patient-facing blast radius (a count, never patients)."""


class Contacts(StrictModel):
    """How to reach a person; secrets such as bot keys stay in the router's config, not here."""

    email: str | None = None
    phone: str | None = None
    wecom: str | None = None
    dingtalk: str | None = None


class Person(StrictModel):
    """A member of a team."""

    id: Id
    name: Name
    role: str = "engineer"
    contacts: Contacts = Contacts()


class Rotation(StrictModel):
    """Who is on call: members take turns, handing over at a fixed local time."""

    period: str = Field(pattern=r"^(daily|weekly)$")
    handover: str = Field(default="08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    start: dt.date
    order: list[Id] = Field(min_length=1)


class EscalationStep(StrictModel):
    """Whom to page when an incident is not acknowledged after some minutes."""

    after_minutes: int = Field(ge=0, le=24 * 60)
    notify: list[str] = Field(min_length=1)
    """``on_call``, ``team``, or a person id."""


class Team(StrictModel):
    """A team that owns services and configuration items."""

    id: Id
    name: Name
    members: list[Person] = Field(min_length=1)
    lead: Id | None = None
    rotation: Rotation | None = None
    escalation: list[EscalationStep] = []


class Service(StrictModel):
    """A clinical or infrastructure service (HIS, LIS, PACS, EMR, network, ...)."""

    id: Id
    name: Name
    tier: int = Field(ge=1, le=4)
    """1 = patient care stops without it, 4 = convenience."""
    team: Id
    departments: list[Id] = []
    workflows: list[str] = []


class Monitor(StrictModel):
    """How an exporter watches a configuration item."""

    exporter: Id
    modules: list[Id] = Field(min_length=1)
    auth: Id | None = None
    target: str | None = None
    """Overrides the item's address, e.g. a URL for HTTP probes or a named database connection."""


class ConfigurationItem(StrictModel):
    """One piece of equipment or software: what it is, whom it serves, who owns it, how to watch it."""

    # Serial numbers and models are often all digits; YAML reads those as numbers.
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, coerce_numbers_to_str=True
    )

    id: Id
    name: Name | None = None
    kind: Kind
    service: Id
    address: str | None = None
    department: Id | None = None
    """Where it stands or whom it serves directly; the IT department for shared infrastructure."""
    shared: bool | None = None
    """True when every department of its service depends on it (a core switch, the HIS database); false when
    only its own department and the CIs depending on it do (an access switch, a modality). Unset: shared when
    it names no department or one its service does not serve (the IT department)."""
    depends_on: list[Id] = []
    owner: Id | None = None
    """Owning team; the service's team when not given."""
    vendor: str = ""
    model: str = ""
    serial: str = ""
    asset_number: str = ""
    """The finance department's asset number (资产编号), as in the asset list."""
    supplier: str = ""
    firmware: str = ""
    """Firmware or software version as last recorded (discovery reads it from ENTITY-MIB)."""
    hardware: str = ""
    """Hardware revision as last recorded."""
    location: str = ""
    purchased: dt.date | None = None
    warranty_end: dt.date | None = None
    contract: str = ""
    monitor: list[Monitor] = []


class Hospital(StrictModel):
    """The site these files describe."""

    id: Id
    name: Name
    timezone: str = "Asia/Shanghai"


class InventoryFile(StrictModel):
    """The shape of one inventory file; every list is optional so the CMDB may be split across files."""

    hospital: Hospital | None = None
    departments: list[Department] = []
    teams: list[Team] = []
    services: list[Service] = []
    cis: list[ConfigurationItem] = []

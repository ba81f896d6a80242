"""The policy file (`rules/routing/policy.yml`): its shape and its checks."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from alertrouter.settings import PRIORITIES, Priority
from hospmon.config import StrictModel
from hospmon.reasons import FAILURES, REASONS

Level = Literal["critical", "high", "normal", "low", "none"]
LEVELS: tuple[Level, ...] = ("critical", "high", "normal", "low", "none")


class CalendarConfig(StrictModel):
    """Which days are holidays and which weekend days are worked (调休)."""

    country: str | None = "CN"
    """Public holidays and adjusted working days from the `holidays` package; None to use only files."""
    files: list[str] = []
    """Local calendars (relative to the policy file); they win over the built-in one."""
    weekends_join_holidays: bool = True
    """A weekend next to a public holiday (through other days off) is part of the break, as China's yearly
    arrangement has it; false where such a weekend keeps its weekend hours."""


class CalendarFile(StrictModel):
    """A local calendar: the hospital's own holidays and adjusted working days for some years."""

    holidays: dict[dt.date, str] = {}
    working_days: dict[dt.date, str] = {}
    """Weekend days that are worked, e.g. 2026-02-14: 春节调休."""

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarFile:
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise ValueError(f"dates both holiday and working day: {', '.join(map(str, both))}")
        return self


class BlastRule(StrictModel):
    """Raise the priority when a failing CI takes many others with it."""

    min_cis: int = Field(default=0, ge=0)
    min_services: int = Field(default=0, ge=0)
    min_departments: int = Field(default=0, ge=0)
    raise_by: int = Field(default=1, ge=1, le=3)


class Override(StrictModel):
    """Someone covers a team's on-call between two times, whatever the rotation says."""

    team: str
    person: str | None
    """None leaves the team with nobody on call (a known gap)."""
    start: dt.datetime
    end: dt.datetime

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("give start and end with a UTC offset, e.g. 2026-12-01T08:30:00+08:00")
        return self


class Absence(StrictModel):
    """Someone cannot be on call between two times; their rotation turns become gaps unless overridden."""

    person: str
    start: dt.datetime
    end: dt.datetime

    @model_validator(mode="after")
    def _order(self) -> Absence:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("give start and end with a UTC offset")
        return self


class AlertPolicy(StrictModel):
    """How one alert, by name, differs from an outage of its CI."""

    outage: bool = True
    """False for a risk or a chore (a warranty or certificate running out): the blast radius does not raise
    it. (Like every alert outside the reachability class it has its own incident per CI and alert name.)"""
    max_priority: Priority | None = None
    """Never above this priority, whatever depends on the CI."""
    min_priority: Priority | None = None
    """Never below this priority: for an alert whose harm is not to the CI's own users (a dead exporter
    leaves every CI it probes unwatched, whatever tier the monitoring service has)."""

    @model_validator(mode="after")
    def _floor_below_cap(self) -> AlertPolicy:
        low, high = self.min_priority, self.max_priority
        if low is not None and high is not None and PRIORITIES.index(low) < PRIORITIES.index(high):
            raise ValueError(f"min_priority {low} is above max_priority {high}: lower one or drop it")
        return self


class StormPolicy(StrictModel):
    """When a first page waits for a cause that may still show up (docs/router.md, "Storms")."""

    settle_seconds: int = Field(default=20, ge=0, le=600)
    """Hold the first page of a reachability incident whose CI has upstream CIs this long: if a CI upstream
    opens a reachability incident meanwhile, this one becomes its child and pages nobody. Alertmanager sends
    each group after its own group_wait, concurrently, and Prometheus may fire the root one evaluation later,
    so a dependent's alert can reach the router first. 0 pages at once."""
    release_grace_seconds: int = Field(default=90, ge=0, le=3600)
    """When a root resolves, hold the first page of each child still failing this long: a probe behind a
    recovered switch turns green at its next scrape, and Alertmanager sends that resolve at the group's next
    group_interval. Children still failing then are paged together, one message per owner. 0 pages at once."""


def _known(values: list[str], known: frozenset[str], what: str, why: str) -> list[str]:
    """Return values if each is known, else refuse them naming the ones to use."""
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(map(repr, unknown))}: use some of {', '.join(sorted(known))}"
            f" ({why}, hospmon/reasons.py)"
        )
    return values


class Policy(StrictModel):
    """Priority by clinical impact, and who answers."""

    matrix: dict[str, dict[Level, Priority]]
    """severity -> criticality of the most critical affected department open now -> priority."""
    default_severity: str = "warning"
    closed_department_level: Level = "low"
    """How a department counts outside its hours."""
    tier_adjust: dict[int, int] = {1: 0, 2: 0, 3: 1, 4: 1}
    """Steps to lower the priority by service tier."""
    blast_radius: list[BlastRule] = []
    unknown_ci_priority: Priority = "P3"
    calendar: CalendarConfig = CalendarConfig()
    overrides: list[Override] = []
    absences: list[Absence] = []
    fallback_team: str | None = None
    """Team for alerts whose CI is not in the inventory."""
    alerts: dict[str, AlertPolicy] = {}
    """By alertname: alerts that are not outages, and caps."""
    reachability: list[str] = []
    """Alerts saying a CI cannot be reached or gives no answer (unreachable, probe failed, down, no data): a
    failure of a CI it depends on explains them, so only these are grouped under an upstream incident. Every
    other alert (a temperature, a disk, a backup, a certificate) is its own incident, paged to its owner."""
    reachability_reasons: list[str] = ["timeout", "unreachable", "rejected", "bad_response", "check_failed"]
    """The probe failure reasons (an alert's `reason` label, `hospmon.reasons`) a failure upstream can
    explain: no answer, or an application's error answer while its database is down. An alert of the
    reachability class with another reason (auth: a changed password or a locked account; config; error) is
    its own incident, paged to its owner; one without `reason` counts by its name alone."""
    reachability_failures: list[str] = ["network", "rejected", "bad_response", "check_failed"]
    """The same for probe alerts carrying `failure` instead of `reason`, as the shipped rules do (they fold
    timeout and unreachable into `network` so an alert keeps one identity while they alternate): only these
    values can be a failure upstream's doing; `failure` decides when an alert has both."""
    storms: StormPolicy = StormPolicy()

    @field_validator("reachability_failures")
    @classmethod
    def _known_failures(cls, failures: list[str]) -> list[str]:
        why = "the rules fold timeout and unreachable into network"
        return _known(failures, FAILURES, "failure(s)", why)

    @field_validator("reachability_reasons")
    @classmethod
    def _known_reasons(cls, reasons: list[str]) -> list[str]:
        return _known(reasons, REASONS, "probe reason(s)", "the reasons the exporters give")

    @field_validator("matrix")
    @classmethod
    def _complete(cls, matrix: dict[str, dict[Level, Priority]]) -> dict[str, dict[Level, Priority]]:
        for severity, row in matrix.items():
            missing = [lvl for lvl in LEVELS if lvl not in row]
            if missing:
                raise ValueError(f"severity {severity}: add {', '.join(missing)}")
        return matrix

    @model_validator(mode="after")
    def _default(self) -> Policy:
        if self.default_severity not in self.matrix:
            raise ValueError(f"default_severity {self.default_severity!r} has no row in matrix")
        missing = [t for t in (1, 2, 3, 4) if t not in self.tier_adjust]
        if missing:
            raise ValueError(f"tier_adjust: add tiers {missing}")
        return self

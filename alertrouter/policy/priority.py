"""Priority by clinical impact: severity x department criticality (open now?) x tier x blast radius.

assessor = Assessor(inventory, policy, calendar)
decision = assessor.assess(ci="core-sw-1", severity="critical", at=now)
decision.priority, decision.explanation   # "P1", "P1: Emergency Department depends on core-sw-1 (core-sw-1
                                          #  is shared infrastructure of Hospital Network); severity ..."
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache

from alertrouter.policy.calendar import Calendar, DayType
from alertrouter.policy.schema import LEVELS, Level, Policy
from alertrouter.settings import PRIORITIES
from hospmon.inventory import Inventory
from hospmon.inventory.impact import Reach, reaches
from hospmon.inventory.schema import WEEKDAYS, Department


@dataclass(frozen=True)
class Footprint:
    """What depends on a CI; fixed for a given inventory."""

    ci: str
    service: str
    dependents: int
    services: int
    reaches: tuple[Reach, ...]


@dataclass(frozen=True)
class Decision:
    """A priority and why."""

    priority: str
    explanation: str
    departments: tuple[str, ...]
    """Affected departments, most critical (open now) first."""
    service: str | None


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def department_open(dept: Department, local: dt.datetime, calendar: Calendar) -> bool:
    """Tell whether a department works at a local time; 24/7 departments always do."""
    if dept.hours is None:
        return True
    day = local.date()
    kind = calendar.day_type(day)
    weekday = WEEKDAYS[day.weekday()]
    now = local.hour * 60 + local.minute
    for hours in dept.hours:
        applies = ("working_days" in hours.days and kind in (DayType.working, DayType.adjusted)) or (
            weekday in hours.days and kind is not DayType.holiday
        )
        if applies:
            for period in hours.periods:
                start, end = period.split("-")
                if _minutes(start) <= now < _minutes(end):
                    return True
    return False


def describe_moment(local: dt.datetime, calendar: Calendar) -> str:
    """Say when, the way an on-call engineer would: '03:10 on a holiday (National Day)'."""
    kind = calendar.day_type(local.date())
    text = f"{local:%H:%M} on {'an' if kind is DayType.adjusted else 'a'} {kind.value}"
    name = calendar.holiday_name(local.date()) if kind is DayType.holiday else ""
    return f"{text} ({name})" if name else text


class Assessor:
    """Computes priorities for one inventory, policy and calendar; caches what does not change."""

    def __init__(self, inventory: Inventory, policy: Policy, calendar: Calendar) -> None:
        self.inventory = inventory
        self.policy = policy
        self.calendar = calendar
        self.footprint = cache(self._footprint)
        self.depth = cache(self._depth)
        self._decide = lru_cache(maxsize=8192)(self._assess)
        self._reachability = frozenset(policy.reachability)

    def _depth(self, ci: str | None) -> int:
        """Return how many CIs a CI needs (0 for roots and unknown CIs)."""
        return len(self.inventory.depends_on_transitively(ci)) if ci in self.inventory.cis else 0

    def _footprint(self, ci: str) -> Footprint:
        inv = self.inventory
        rank = {lvl: i for i, lvl in enumerate(LEVELS)}
        found = reaches(inv, ci)
        ordered = sorted(found, key=lambda r: rank[inv.departments[r.department].criticality.value])
        return Footprint(
            ci, inv.cis[ci].service, len(inv.dependents(ci)), len(inv.services_affected(ci)), tuple(ordered)
        )

    def severity_of(self, severity: str) -> str:
        """Return the severity the matrix knows, falling back to the policy's default."""
        return severity if severity in self.policy.matrix else self.policy.default_severity

    def is_outage(self, alertname: str) -> bool:
        """Tell whether an alert means its CI is failing (the default) rather than a risk or a chore."""
        rule = self.policy.alerts.get(alertname)
        return rule is None or rule.outage

    def is_reachability(self, alertname: str) -> bool:
        """Tell whether a failure upstream can explain an alert (the policy's reachability class)."""
        return alertname in self._reachability

    def assess(self, *, ci: str | None, severity: str, at: dt.datetime, alertname: str = "") -> Decision:
        """Decide the priority of an alert on a CI at a moment (to the minute: hours are kept in minutes)."""
        local = at.astimezone(self.inventory.tz).replace(second=0, microsecond=0)
        name = alertname if alertname in self.policy.alerts else ""
        return self._decide(ci, self.severity_of(severity), local, name)

    def _assess(self, ci: str | None, severity: str, local: dt.datetime, alertname: str) -> Decision:
        moment = describe_moment(local, self.calendar)
        rule = self.policy.alerts.get(alertname)
        if ci is None or ci not in self.inventory.cis:
            index, capped = self._cap(PRIORITIES.index(self.policy.unknown_ci_priority), alertname)
            prio = PRIORITIES[index]
            what = "no ci label" if ci is None else f"{ci} is not in the inventory"
            return Decision(prio, f"{prio}: {what}; severity {severity}; {moment}{capped}", (), None)
        fp = self.footprint(ci)
        depts = self.inventory.departments
        level_of: dict[str, Level] = {}
        closed: list[str] = []
        for reach in fp.reaches:
            dept = depts[reach.department]
            level: Level = dept.criticality.value
            if not department_open(dept, local, self.calendar):
                closed.append(reach.department)
                level = max(level, self.policy.closed_department_level, key=LEVELS.index)
            level_of[reach.department] = level
        order = sorted(fp.reaches, key=lambda r: LEVELS.index(level_of[r.department]))
        top = order[0] if order else None
        top_level: Level = level_of[top.department] if top else "none"
        base = self.policy.matrix[severity][top_level]
        tier_service = top.service if top else fp.service
        tier = self.inventory.services[tier_service].tier
        lower = self.policy.tier_adjust[tier]
        raise_by = max(
            (
                r.raise_by
                for r in self.policy.blast_radius
                if fp.dependents >= r.min_cis
                and fp.services >= r.min_services
                and len(fp.reaches) >= r.min_departments
            ),
            default=0,
        )
        if rule is not None and not rule.outage:
            raise_by = 0
        index = min(max(PRIORITIES.index(base) + lower - raise_by, 0), len(PRIORITIES) - 1)
        index, capped = self._cap(index, alertname)
        prio = PRIORITIES[index]
        parts = [f"{prio}: " + (self._reach_text(top, ci) if top else f"no department depends on {ci}")]
        parts.append(f"severity {severity}")
        parts.append(
            f"tier {tier} service {self.inventory.services[tier_service].name}"
            + (f" (lowered {lower})" if lower else "")
        )
        if fp.dependents:
            parts.append(
                f"blast radius {fp.dependents} CIs, {fp.services} services, {len(fp.reaches)} departments"
                + (f" (raised {raise_by})" if raise_by else "")
            )
        parts.append(moment)
        if closed:
            names = ", ".join(str(depts[d].name) for d in closed[:3]) + (" ..." if len(closed) > 3 else "")
            parts.append(f"closed now: {names}")
        return Decision(prio, "; ".join(parts) + capped, tuple(r.department for r in order), fp.service)

    def _cap(self, index: int, alertname: str) -> tuple[int, str]:
        """Apply the policy's cap for an alert; return the index and a note for the explanation."""
        rule = self.policy.alerts.get(alertname)
        if rule is None or rule.max_priority is None:
            return index, ""
        cap = PRIORITIES.index(rule.max_priority)
        if index >= cap:
            return index, ""
        return cap, f"; capped at {rule.max_priority} for {alertname}"

    def _reach_text(self, reach: Reach, ci: str) -> str:
        """Say which path makes a department depend on the CI, e.g. '... (its own department)'."""
        inv = self.inventory
        text = f"{inv.departments[reach.department].name} depends on {ci}"
        through = reach.path[1:]
        if through:
            text += " through " + ", ".join(through)
        if reach.via == "own":
            return text + " (its own department)"
        if reach.via == "ci":
            return text + f" ({reach.carrier}'s own department)"
        return text + f" ({reach.carrier} is shared infrastructure of {inv.services[reach.service].name})"

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

from alertrouter.msg import N_, Joined, Msg, Ref, T, join
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
    explanation: Msg
    """The English text, which also says itself in other languages (`alertrouter.msg`)."""
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


DAYS = {
    DayType.working: N_("a working day"),
    DayType.adjusted: N_("an adjusted working day"),
    DayType.weekend: N_("a weekend"),
    DayType.holiday: N_("a holiday"),
}


def describe_moment(local: dt.datetime, calendar: Calendar) -> Msg:
    """Say when, the way an on-call engineer would: '03:10 on a holiday (National Day)'."""
    kind = calendar.day_type(local.date())
    day = T(DAYS[kind])
    name = calendar.holiday_name(local.date()) if kind is DayType.holiday else ""
    if name:
        return T("{time} on {day} ({holiday})", time=f"{local:%H:%M}", day=day, holiday=name)
    return T("{time} on {day}", time=f"{local:%H:%M}", day=day)


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
            what = (
                T("{prio}: no ci label", prio=prio)
                if ci is None
                else T("{prio}: {ci} is not in the inventory", prio=prio, ci=ci)
            )
            parts = [what, T("severity {severity}", severity=T(severity)), moment, *capped]
            return Decision(prio, join(parts), (), None)
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
        why = self._reach_text(top, ci) if top else T("no department depends on {ci}", ci=ci)
        parts = [T("{prio}: {why}", prio=prio, why=why), T("severity {severity}", severity=T(severity))]
        service = self._ref("service", tier_service)
        if lower:
            parts.append(
                T("tier {tier} service {service} (lowered {lower})", tier=tier, service=service, lower=lower)
            )
        else:
            parts.append(T("tier {tier} service {service}", tier=tier, service=service))
        if fp.dependents:
            counts = {"cis": fp.dependents, "services": fp.services, "departments": len(fp.reaches)}
            parts.append(
                T("blast radius {cis} CIs, {services} services, {departments} departments (raised {by})",
                  by=raise_by, **counts)
                if raise_by
                else T("blast radius {cis} CIs, {services} services, {departments} departments", **counts)
            )  # fmt: skip
        parts.append(moment)
        if closed:
            names = Joined(tuple(self._ref("department", d) for d in closed[:3]))
            more = len(closed) > 3
            parts.append(
                T("closed now: {names} ...", names=names) if more else T("closed now: {names}", names=names)
            )
        return Decision(prio, join([*parts, *capped]), tuple(r.department for r in order), fp.service)

    def _cap(self, index: int, alertname: str) -> tuple[int, list[Msg]]:
        """Apply the policy's cap for an alert; return the index and a note for the explanation, if any."""
        rule = self.policy.alerts.get(alertname)
        if rule is None or rule.max_priority is None:
            return index, []
        cap = PRIORITIES.index(rule.max_priority)
        if index >= cap:
            return index, []
        return cap, [T("capped at {cap} for {alert}", cap=rule.max_priority, alert=alertname)]

    def _ref(self, kind: str, ident: str) -> Ref:
        """Name a department or service by id, in whichever language the reader has."""
        table = self.inventory.departments if kind == "department" else self.inventory.services
        return Ref(kind, ident, str(table[ident].name))

    def _reach_text(self, reach: Reach, ci: str) -> Msg:
        """Say which path makes a department depend on the CI, e.g. '... (its own department)'."""
        dept = self._ref("department", reach.department)
        through = reach.path[1:]
        base = (
            T("{dept} depends on {ci} through {path}", dept=dept, ci=ci, path=Joined(tuple(through)))
            if through
            else T("{dept} depends on {ci}", dept=dept, ci=ci)
        )
        if reach.via == "own":
            return T("{reach} (its own department)", reach=base)
        if reach.via == "ci":
            return T("{reach} ({carrier}'s own department)", reach=base, carrier=reach.carrier)
        service = self._ref("service", reach.service)
        shared = N_("{reach} ({carrier} is shared infrastructure of {service})")
        return T(shared, reach=base, carrier=reach.carrier, service=service)

"""Priority by clinical impact: severity x department criticality (open now?) x tier x blast radius.

assessor = Assessor(inventory, policy, calendar)
decision = assessor.assess(ci="core-sw-1", severity="critical", at=now)
decision.priority, decision.explanation   # "P1", "P1: Emergency Department depends on core-sw-1 (core-sw-1
                                          #  is shared infrastructure of Hospital Network); severity ..."
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
class Ranking:
    """The priority of an alert on a CI while some of its departments are closed, and what decided it."""

    priority: str
    order: tuple[Reach, ...]
    """The departments' reaches, most critical (open now) first."""
    tier_service: str
    lower: int
    raise_by: int
    capped: tuple[Msg, ...]


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
        # The name as a message (calendar.HOLIDAY_NAMES): braces in a local file's name are not fields.
        holiday = T(name.replace("{", "{{").replace("}", "}}"))
        return T("{time} on {day} ({holiday})", time=f"{local:%H:%M}", day=day, holiday=holiday)
    return T("{time} on {day}", time=f"{local:%H:%M}", day=day)


class Assessor:
    """Computes priorities for one inventory, policy and calendar; caches what does not change."""

    def __init__(self, inventory: Inventory, policy: Policy, calendar: Calendar) -> None:
        self.inventory = inventory
        self.policy = policy
        self.calendar = calendar
        self.footprint = cache(self._footprint)
        self.depth = cache(self._depth)
        self._decide = lru_cache(maxsize=1024)(self._assess)  # few alerts meet one minute twice
        self._ranked = lru_cache(maxsize=8192)(self._rank)
        self._closed_at = lru_cache(maxsize=64)(self._departments_closed)
        self._with_hours = [d for d in inventory.departments.values() if d.hours is not None]
        self._reachability = frozenset(policy.reachability)
        self._reasons = frozenset(policy.reachability_reasons)
        self._failures = frozenset(policy.reachability_failures)

    def precompute(self) -> None:
        """Work out every CI's footprint and depth now, e.g. before gunicorn forks its workers.

        Each worker then finds them made instead of working each out on the first alert of a CI (and the
        worker re-deciding open incidents, on the first incident of a CI another process received).
        """
        for ci in self.inventory.cis:
            self.footprint(ci)
            self.depth(ci)

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

    def is_reachability(self, alertname: str, labels: Mapping[str, str]) -> bool:
        """Tell whether a failure upstream can explain an alert (the policy's reachability class).

        A probe failure's `failure` (or `reason`) decides (`reachability_failures`, `reachability_reasons`):
        a timeout or an unreachable target may be the network's doing, an application's error answer its
        database's; a refused password never is anything upstream's.
        """
        if alertname not in self._reachability:
            return False
        if "failure" in labels:
            return labels["failure"] in self._failures
        reason = labels.get("reason")
        return reason is None or reason in self._reasons

    def assess(self, *, ci: str | None, severity: str, at: dt.datetime, alertname: str = "") -> Decision:
        """Decide the priority of an alert on a CI at a moment (to the minute: hours are kept in minutes)."""
        local = at.astimezone(self.inventory.tz).replace(second=0, microsecond=0)
        name = alertname if alertname in self.policy.alerts else ""
        return self._decide(ci, self.severity_of(severity), local, name)

    def priority(self, *, ci: str | None, severity: str, at: dt.datetime, alertname: str = "") -> str:
        """Return the priority `assess` decides, without the explanation: cheap for every open incident."""
        local = at.astimezone(self.inventory.tz).replace(second=0, microsecond=0)
        name = alertname if alertname in self.policy.alerts else ""
        if ci is None or ci not in self.inventory.cis:
            return self._unknown(name)[0]
        return self._ranked(ci, self.severity_of(severity), name, self._closed(ci, local)).priority

    def _unknown(self, alertname: str) -> tuple[str, tuple[Msg, ...]]:
        """Return the priority of an alert on no known CI, and the note of its cap."""
        index, capped = self._cap(PRIORITIES.index(self.policy.unknown_ci_priority), alertname)
        return PRIORITIES[index], tuple(capped)

    def _closed(self, ci: str, local: dt.datetime) -> tuple[str, ...]:
        """Return the departments depending on a CI that are closed at a local minute, in reach order."""
        closed_now = self._closed_at(local)
        return tuple(r.department for r in self.footprint(ci).reaches if r.department in closed_now)

    def _departments_closed(self, local: dt.datetime) -> frozenset[str]:
        """Return every department closed at a local minute."""
        return frozenset(d.id for d in self._with_hours if not department_open(d, local, self.calendar))

    def _rank(self, ci: str, severity: str, alertname: str, closed: tuple[str, ...]) -> Ranking:
        """Rank an alert on a CI while these of its departments are closed; the rest is fixed."""
        fp = self.footprint(ci)
        depts = self.inventory.departments
        level_of: dict[str, Level] = {}
        for reach in fp.reaches:
            level: Level = depts[reach.department].criticality.value
            if reach.department in closed:
                level = max(level, self.policy.closed_department_level, key=LEVELS.index)
            level_of[reach.department] = level
        order = tuple(sorted(fp.reaches, key=lambda r: LEVELS.index(level_of[r.department])))
        top = order[0] if order else None
        top_level: Level = level_of[top.department] if top else "none"
        base = self.policy.matrix[severity][top_level]
        tier_service = top.service if top else fp.service
        lower = self.policy.tier_adjust[self.inventory.services[tier_service].tier]
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
        rule = self.policy.alerts.get(alertname)
        if rule is not None and not rule.outage:
            raise_by = 0
        index = min(max(PRIORITIES.index(base) + lower - raise_by, 0), len(PRIORITIES) - 1)
        index, capped = self._cap(index, alertname)
        return Ranking(PRIORITIES[index], order, tier_service, lower, raise_by, tuple(capped))

    def _assess(self, ci: str | None, severity: str, local: dt.datetime, alertname: str) -> Decision:
        moment = describe_moment(local, self.calendar)
        if ci is None or ci not in self.inventory.cis:
            prio, capped = self._unknown(alertname)
            what = (
                T("{prio}: no ci label", prio=prio)
                if ci is None
                else T("{prio}: {ci} is not in the inventory", prio=prio, ci=ci)
            )
            parts = [what, T("severity {severity}", severity=T(severity)), moment, *capped]
            return Decision(prio, join(parts), (), None)
        fp = self.footprint(ci)
        closed = self._closed(ci, local)
        rank = self._ranked(ci, severity, alertname, closed)
        prio, top = rank.priority, (rank.order[0] if rank.order else None)
        tier, lower, raise_by = self.inventory.services[rank.tier_service].tier, rank.lower, rank.raise_by
        why = self._reach_text(top, ci) if top else T("no department depends on {ci}", ci=ci)
        parts = [T("{prio}: {why}", prio=prio, why=why), T("severity {severity}", severity=T(severity))]
        service = self._ref("service", rank.tier_service)
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
        departments = tuple(r.department for r in rank.order)
        return Decision(prio, join([*parts, *rank.capped]), departments, fp.service)

    def _cap(self, index: int, alertname: str) -> tuple[int, list[Msg]]:
        """Apply the policy's cap and floor for an alert; return the index and a note for the explanation."""
        rule = self.policy.alerts.get(alertname)
        if rule is None:
            return index, []
        if rule.max_priority is not None and index < PRIORITIES.index(rule.max_priority):
            cap = rule.max_priority
            return PRIORITIES.index(cap), [T("capped at {cap} for {alert}", cap=cap, alert=alertname)]
        if rule.min_priority is not None and index > PRIORITIES.index(rule.min_priority):
            floor = rule.min_priority
            return PRIORITIES.index(floor), [T("raised to {floor} for {alert}", floor=floor, alert=alertname)]
        return index, []

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

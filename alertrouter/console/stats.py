"""Statistics over a period: MTTA and MTTR by dimension and hours, workload, top faults, availability."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alertrouter.console.models import Resolution
from alertrouter.context import Router
from alertrouter.models import Incident, Notification

DIMENSIONS = ("team", "person", "service", "department", "priority")
OUTAGE_PRIORITIES = ("P1", "P2")
"""Incidents of these priorities count as the service being down."""


@dataclass
class Times:
    """Acknowledge and resolve durations in seconds, split into business and off hours."""

    count: int = 0
    ack: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    res: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})

    def mean(self, which: str, business: bool | None) -> float | None:
        """Return the mean in seconds for business hours, off hours or (None) both."""
        table = self.ack if which == "ack" else self.res
        values = table[True] + table[False] if business is None else table[business]
        return sum(values) / len(values) if values else None


@dataclass
class Workload:
    """What one engineer did in the period."""

    handled: int = 0
    minutes: int = 0
    off_hours: int = 0
    """Incidents opened out of business hours that this engineer took."""
    pages_off_hours: int = 0
    """Notifications delivered to this engineer out of business hours."""


@dataclass
class Report:
    """Everything the statistics pages show."""

    start: dt.datetime
    end: dt.datetime
    total: int
    resolved: int
    overall: Times
    by: dict[str, dict[str, Times]]
    workload: dict[str, Workload]
    top_alerts: list[tuple[str, int]]
    top_cis: list[tuple[str, int]]
    causes: list[tuple[str, int]]
    availability: dict[str, tuple[float, float]]
    """Service: (availability ratio, seconds down)."""


def is_business(router: Router, at: dt.datetime, hours: tuple[dt.time, dt.time]) -> bool:
    """Tell whether a moment is within business hours on a working day of the hospital's calendar."""
    local = at.astimezone(router.inventory.tz)
    return router.calendar.is_working_day(local.date()) and hours[0] <= local.time() < hours[1]


def _union_seconds(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> float:
    total, current = 0.0, None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def _pages(
    router: Router, session: Session, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, dt.datetime]]:
    """Return (person, time) for each notification delivered to a person's address in the period."""
    people = {}
    for team in router.inventory.teams.values():
        for member in team.members:
            for address in member.contacts.model_dump().values():
                if address:
                    people[str(address)] = member.id
    stmt = select(Notification.recipient, Notification.sent_at).where(
        Notification.status == "sent", Notification.sent_at >= start, Notification.sent_at < end
    )
    return [
        (people[recipient], at)
        for recipient, at in session.execute(stmt).all()
        if recipient in people and at is not None
    ]


def _outages(
    session: Session, start: dt.datetime, until: dt.datetime
) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Return, per service, the spans within [start, until) covered by its P1/P2 root incidents."""
    stmt = select(Incident.service, Incident.created_at, Incident.resolved_at).where(
        Incident.priority.in_(OUTAGE_PRIORITIES),
        Incident.service.is_not(None),
        Incident.parent_id.is_(None),
        Incident.created_at < until,
        or_(Incident.resolved_at.is_(None), Incident.resolved_at > start),
    )
    down: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for service, created, resolved in session.execute(stmt).all():
        down[service or "-"].append((max(created, start), min(resolved or until, until)))
    return down


def compute(
    router: Router,
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    hours: tuple[dt.time, dt.time] = (dt.time(8), dt.time(18)),
    now: dt.datetime | None = None,
) -> Report:
    """Compute the statistics of the incidents opened in [start, end); availability up to `now`."""
    stmt = (
        select(Incident, Resolution)
        .outerjoin(Resolution, Resolution.incident_id == Incident.id)
        .where(Incident.created_at >= start, Incident.created_at < end)
    )
    rows = list(session.execute(stmt).all())
    overall = Times()
    by: dict[str, dict[str, Times]] = {d: defaultdict(Times) for d in DIMENSIONS}
    work: dict[str, Workload] = defaultdict(Workload)
    alerts: Counter[str] = Counter()
    cis: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for inc, res in rows:
        business = is_business(router, inc.created_at, hours)
        person = inc.acknowledged_by or inc.assignee or (res.by if res else None)
        keys: dict[str, list[str]] = {
            "team": [inc.team or "-"],
            "person": [person or "-"],
            "service": [inc.service or "-"],
            "department": [d.department for d in inc.departments][:1] or ["-"],
            "priority": [inc.priority],
        }
        targets: list[Times] = [overall] + [by[d][k] for d in DIMENSIONS for k in keys[d]]
        for t in targets:
            t.count += 1
            if inc.acknowledged_at:
                t.ack[business].append((inc.acknowledged_at - inc.created_at).total_seconds())
            if inc.resolved_at:
                t.res[business].append((inc.resolved_at - inc.created_at).total_seconds())
        handlers = {p for p in (inc.acknowledged_by, inc.assignee, res.by if res else None) if p}
        for p in handlers:
            work[p].handled += 1
            if not business and p in (inc.acknowledged_by, inc.assignee):
                work[p].off_hours += 1
        if res is not None:
            work[res.by].minutes += res.minutes_spent
            causes[res.cause] += 1
        alerts[inc.alertname or "-"] += 1
        if inc.ci:
            cis[inc.ci] += 1
    for person, at in _pages(router, session, start, end):
        if not is_business(router, at, hours):
            work[person].pages_off_hours += 1
    until = min(end, now) if now is not None else end
    down = _outages(session, start, until)
    period = max(0.0, (until - start).total_seconds())
    availability = {}
    for service in router.inventory.services:
        seconds = _union_seconds(down.get(service, []))
        availability[service] = (1 - seconds / period if period else 1.0, seconds)
    return Report(
        start=start,
        end=end,
        total=len(rows),
        resolved=sum(1 for inc, _ in rows if inc.resolved_at),
        overall=overall,
        by={d: dict(sorted(v.items())) for d, v in by.items()},
        workload=dict(sorted(work.items())),
        top_alerts=alerts.most_common(10),
        top_cis=cis.most_common(10),
        causes=causes.most_common(),
        availability=availability,
    )


def minutes(seconds: float | None) -> str:
    """Show seconds as minutes with one decimal, or a dash."""
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def csv_rows(report: Report, label: Callable[[str], str] = str) -> list[list[str]]:
    """Return the MTTA/MTTR table of every dimension, then the workload table, as CSV rows."""
    out = [
        [
            "dimension",
            "key",
            "count",
            "mtta_minutes",
            "mtta_business_minutes",
            "mtta_off_hours_minutes",
            "mttr_minutes",
            "mttr_business_minutes",
            "mttr_off_hours_minutes",
        ]
    ]
    for dim in DIMENSIONS:
        for key, t in report.by[dim].items():
            out.append(
                [dim, label(key), str(t.count)]
                + [minutes(t.mean("ack", b)) for b in (None, True, False)]
                + [minutes(t.mean("res", b)) for b in (None, True, False)]
            )
    out += [
        [],
        [
            "workload",
            "engineer",
            "incidents_handled",
            "minutes_spent",
            "off_hours_incidents",
            "off_hours_pages",
        ],
    ]
    for person, w in report.workload.items():
        out.append(
            ["workload", person, str(w.handled), str(w.minutes), str(w.off_hours), str(w.pages_off_hours)]
        )
    return out

"""What a new incident records about its alert (one place for intake and for a split); the incidents a
delivery opens, numbered in memory while its alerts are routed and written together afterwards.

Routing a delivery's alerts one by one, each new incident would cost a round trip before the next alert could
be routed. Instead an incident being opened gets a negative stand-in id; the planner routes every alert with
it, and `Openings.write` inserts them all (parents first: a child of an incident opened in the same delivery
needs its parent's id), then their departments and the incidents they take over. Timeline entries naming a
stand-in are rendered once the real ids are known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from alertrouter.context import Router
from alertrouter.intake.sql import Statements
from alertrouter.models import Status
from alertrouter.msg import Said, T, msg_data, stored
from alertrouter.owner import Owner
from alertrouter.policy.priority import Decision

Ids = Callable[[int], int]
"""Turns an incident id, real or stand-in, into the real one."""
Text = str | Callable[[Ids], str]
"""A timeline text, or one that names incidents by id and is rendered once their ids are known."""


class Raced(Exception):
    """Another replica stored one of the delivery's alerts or opened one of its incidents first.

    The transaction is rolled back and the delivery ingested again: it then finds what the other replica
    committed (PostgreSQL makes the conflicting insert wait for it), and joins or repeats instead.
    """


@dataclass
class Opening:
    """An incident this delivery opens, known by a stand-in id until it is written."""

    stand_in: int
    row: dict[str, Any]
    parent: int | None
    departments: tuple[str, ...]
    adopted: list[int] = field(default_factory=list)
    """Open incidents of CIs depending on this one's, which become its children."""


class Openings:
    """The incidents a delivery opens, and the real ids they get when written."""

    def __init__(self) -> None:
        self.pending: list[Opening] = []
        self.ids: dict[int, int] = {}

    def add(self, row: dict[str, Any], parent: int | None, departments: tuple[str, ...]) -> Opening:
        """Take an incident to open; return it with its stand-in id (negative, never a real id)."""
        opening = Opening(-(len(self.pending) + 1), row, parent, departments)
        self.pending.append(opening)
        return opening

    def real(self, incident_id: int) -> int:
        """Return the real id of an incident, given its real or stand-in id."""
        return self.ids.get(incident_id, incident_id)

    def write(self, conn: Connection, sql: Statements) -> None:
        """Insert the incidents, parents first; then their departments and the incidents they adopt."""
        first = [o for o in self.pending if o.parent is None or o.parent > 0]
        then = [o for o in self.pending if o.parent is not None and o.parent < 0]
        for batch in (first, then):
            if not batch:
                continue
            rows = [{**o.row, "parent_id": None if o.parent is None else self.real(o.parent)} for o in batch]
            returned = conn.execute(sql.insert_incidents, rows).all()
            if len(returned) != len(rows):
                raise Raced("another replica opened one of these incidents first")
            self.ids.update((o.stand_in, r.id) for o, r in zip(batch, returned, strict=True))
        departments = [
            {"incident_id": self.real(o.stand_in), "department": d, "position": i}
            for o in self.pending
            for i, d in enumerate(o.departments)
        ]
        if departments:
            conn.execute(sql.insert_departments, departments)
        adopted = [{"child": c, "root": self.real(o.stand_in)} for o in self.pending for c in o.adopted]
        if adopted:
            conn.execute(sql.adopt, adopted)

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Return a timeline row with real incident ids and its text rendered."""
        text = event["text"]
        data = dict(event["data"])
        for key in ("parent_id", "child_id"):
            if key in data:
                data[key] = self.real(data[key])
        if not isinstance(text, str):
            text = text(self.real)
            data.update(msg_data(text))
        return {**event, "incident_id": self.real(event["incident_id"]), "text": text, "data": data}


def _title_msg(alertname: str, ci: str | None, summary: str, summary_zh: str) -> dict[str, Any] | None:
    """Keep the alert's own Chinese summary (its rule's `summary_zh`) to title the incident for zh readers."""
    what = T("{alert} on {ci}", alert=alertname, ci=ci or T("no CI"))
    return stored(T("{what}: {summary}", what=what, summary=Said(summary, (("zh", summary_zh),))))


def incident_fields(
    router: Router, *, alertname: str, ci: str | None, severity: str, summary: str, firing: bool,
    decision: Decision, owner: Owner, now: dt.datetime, summary_zh: str = "",
) -> dict[str, Any]:  # fmt: skip
    """Return the columns of an incident opened by one alert: its title, priority and owner, each with why."""
    base = f"{alertname} on {ci or 'no CI'}"
    # State the alert once: a summary that only repeats it adds nothing.
    adds = bool(summary) and summary != base
    title = base + (f": {summary}" if adds else "")
    return dict(
        title=title[:300],
        title_msg=_title_msg(alertname, ci, summary, summary_zh) if adds and summary_zh else None,
        status=Status.triggered if firing else Status.resolved,
        priority=decision.priority,
        explanation=decision.explanation,
        explanation_msg=stored(decision.explanation),
        owner_explanation=owner.explanation,
        owner_msg=stored(owner.explanation),
        severity=router.assessor.severity_of(severity),
        alertname=alertname,
        ci=ci,
        service=decision.service,
        team=owner.team,
        assignee=owner.person,
        created_at=now,
        resolved_at=None if firing else now,
        escalation_step=0,
    )

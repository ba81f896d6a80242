"""The on-call plan in force: the YAML rotations, overrides and absences as the base, and the overrides,
swaps and absences a lead made in the console, kept in the store, effective at once on every replica.

`plan(router, session=...)` returns the policy with the store's entries put first (the newest wins, as the
first matching override does in `on_call`); `segments` cuts a period into who-is-on-call stretches for the
calendar pages and the iCal feeds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from alertrouter.context import Router
from alertrouter.models import Base
from alertrouter.policy.oncall import OnCall, on_call
from alertrouter.policy.schema import Absence, Override, Policy
from hospmon.inventory import Inventory

KINDS = ("override", "absence")
MAX_LENGTH = dt.timedelta(days=92)


class RotaChange(Base):
    """An override (someone, or nobody, covers a team) or an absence, made in the console by a lead."""

    __tablename__ = "oncall_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    """override: the team covered."""
    person: Mapped[str | None] = mapped_column(String(64))
    """override: who covers (None: nobody, a known gap); absence: who is away."""
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))


ONCALL_CHANGES = RotaChange.__table__


class Entry(Protocol):
    """What the plan needs of a change: a stored `RotaChange`, or a row of the intake's lookup."""

    @property
    def kind(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def person(self) -> str | None: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def ends_at(self) -> dt.datetime: ...


def active_changes(*, session: Session, since: dt.datetime | None = None) -> list[RotaChange]:
    """Return the changes not cancelled (ending after `since`, if given), newest first."""
    stmt = select(RotaChange).where(RotaChange.cancelled_at.is_(None))
    if since is not None:
        stmt = stmt.where(RotaChange.ends_at > since)
    return list(session.execute(stmt.order_by(RotaChange.id.desc())).scalars())


def plan(router: Router, *, session: Session) -> Policy:
    """Return the policy in force: the store's overrides and absences first, then the YAML's."""
    return policy_with(router, active_changes(session=session))


def policy_with(router: Router, changes: Sequence[Entry]) -> Policy:
    """Return the YAML's policy under these changes (newest first), as `plan` does."""
    if not changes:
        return router.policy
    overrides = [
        Override(team=c.team or "", person=c.person, start=c.starts_at, end=c.ends_at)
        for c in changes
        if c.kind == "override"
    ]
    absences = [
        Absence(person=c.person or "", start=c.starts_at, end=c.ends_at)
        for c in changes
        if c.kind == "absence"
    ]
    return router.policy.model_copy(
        update={
            "overrides": overrides + list(router.policy.overrides),
            "absences": absences + list(router.policy.absences),
        }
    )


@dataclass(frozen=True)
class Segment:
    """One stretch in which the same person (or nobody) answers for a team, and why."""

    team: str
    person: str | None
    start: dt.datetime
    end: dt.datetime
    kind: str
    """rotation, override or absence (the rotation's person is away and nobody covers)."""
    reason: str


def kind_of(duty: OnCall) -> str:
    """Say which rule put someone (or nobody) on call."""
    if duty.reason.startswith("override"):
        return "override"
    if " is absent " in duty.reason:
        return "absence"
    return "rotation"


def _moments(
    inv: Inventory, policy: Policy, team_id: str, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    tz = inv.tz
    found = {start}
    rot = inv.teams[team_id].rotation
    if rot is not None:
        hh, mm = (int(x) for x in rot.handover.split(":"))
        day = start.astimezone(tz).date() - dt.timedelta(days=1)
        while day <= end.astimezone(tz).date():
            found.add(dt.datetime.combine(day, dt.time(hh, mm), tzinfo=tz).astimezone(dt.UTC))
            day += dt.timedelta(days=1)
    for ov in policy.overrides:
        if ov.team == team_id:
            found.update((ov.start, ov.end))
    for ab in policy.absences:
        found.update((ab.start, ab.end))
    return sorted(m.astimezone(dt.UTC) for m in found if start <= m < end)


def segments(
    inv: Inventory, policy: Policy, team_id: str, start: dt.datetime, end: dt.datetime
) -> list[Segment]:
    """Cut [start, end) into stretches of one duty for a team, merging neighbours with the same duty."""
    out: list[Segment] = []
    moments = _moments(inv, policy, team_id, start, end)
    for at, nxt in zip(moments, [*moments[1:], end], strict=True):
        duty = on_call(inv, policy, team_id, at)
        kind = kind_of(duty)
        last = out[-1] if out else None
        if last is not None and last.person == duty.person and last.kind == kind:
            out[-1] = Segment(team_id, last.person, last.start, nxt, kind, last.reason)
        else:
            out.append(Segment(team_id, duty.person, at, nxt, kind, duty.reason))
    return out

"""Changes a lead makes to the on-call plan in the console: overrides, swaps, absences, and cancelling them.

Each is checked against the inventory (the person is on the team, the times are in order and not longer than
three months) and written to the store, where `rota.plan` finds it on every replica at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.errors import ApiError
from alertrouter.msg import T
from alertrouter.policy.oncall import on_call
from alertrouter.policy.rota import MAX_LENGTH, RotaChange, plan, segments


def may_edit(router: Router, username: str, is_admin: bool, team_id: str) -> bool:
    """Tell whether a user may change a team's plan: its lead, or an admin."""
    team = router.inventory.teams.get(team_id)
    return is_admin or (team is not None and team.lead == username)


def teams_of(router: Router, person: str) -> list[str]:
    """Return the teams a person is on."""
    return [t.id for t in router.inventory.teams.values() if person in {m.id for m in t.members}]


def _add(
    session: Session, kind: str, team: str | None, person: str | None, start: dt.datetime, end: dt.datetime,
    reason: str, author: str, now: dt.datetime,
) -> RotaChange:  # fmt: skip
    """Check the times and store one change."""
    if end <= start:
        raise ApiError(400, T("the end must be after the start"))
    if end - start > MAX_LENGTH:
        raise ApiError(400, T("an override or absence lasts at most 92 days; add another for longer"))
    change = RotaChange(
        kind=kind, team=team, person=person, starts_at=start, ends_at=end, reason=reason, author=author,
        created_at=now,
    )  # fmt: skip
    session.add(change)
    session.flush()
    return change


def add_override(
    router: Router,
    *,
    session: Session,
    team: str,
    person: str | None,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    author: str,
    now: dt.datetime,
) -> RotaChange:
    """Put someone (None: nobody) on call for a team between two times."""
    if team not in router.inventory.teams:
        raise ApiError(400, T("unknown team {team}", team=repr(team)))
    if person is not None and person not in {m.id for m in router.inventory.teams[team].members}:
        raise ApiError(400, T("{person} is not on team {team}", person=repr(person), team=team))
    return _add(session, "override", team, person, start, end, reason, author, now)


def add_absence(
    router: Router,
    *,
    session: Session,
    person: str,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    author: str,
    now: dt.datetime,
) -> RotaChange:
    """Record that someone cannot be on call between two times."""
    if not teams_of(router, person):
        raise ApiError(400, T("unknown person {person}", person=repr(person)))
    return _add(session, "absence", None, person, start, end, reason, author, now)


def swap(
    router: Router,
    *,
    session: Session,
    team: str,
    first: dt.datetime,
    second: dt.datetime,
    reason: str,
    author: str,
    now: dt.datetime,
) -> list[RotaChange]:
    """Swap the two turns of a team's plan holding two moments: each person covers the other's turn."""
    policy = plan(router, session=session)
    turns = []
    for at in (first, second):
        found = segments(router.inventory, policy, team, at - dt.timedelta(days=8), at + dt.timedelta(days=8))
        turn = next((s for s in found if s.start <= at < s.end), None)
        if turn is None or turn.person is None:
            raise ApiError(400, T("nobody is on call at one of the two moments; add an override instead"))
        turns.append(turn)
    a, b = turns
    if a.person == b.person:
        raise ApiError(400, T("both turns are {person}'s; pick turns of two people", person=a.person))
    return [
        add_override(router, session=session, team=team, person=b.person, start=a.start, end=a.end,
                     reason=reason, author=author, now=now),
        add_override(router, session=session, team=team, person=a.person, start=b.start, end=b.end,
                     reason=reason, author=author, now=now),
    ]  # fmt: skip


def cancel(change_id: int, *, session: Session, by: str, now: dt.datetime) -> RotaChange:
    """Cancel a change made in the console; the plan falls back to what lies under it."""
    change = session.get(RotaChange, change_id)
    if change is None or change.cancelled_at is not None:
        raise ApiError(404, T("no active change {id}", id=change_id))
    change.cancelled_at, change.cancelled_by = now, by
    return change


def who(router: Router, team: str, at: dt.datetime, *, session: Session) -> str | None:
    """Return who answers for a team at a moment under the plan in force."""
    return on_call(router.inventory, plan(router, session=session), team, at).person

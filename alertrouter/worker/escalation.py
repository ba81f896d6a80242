"""Page the owner, then escalate step by step until someone acknowledges.

A first page may wait for a cause that may still show up (`alertrouter.storms`); children a cause released
together are paged together, one message per person and channel listing them (`alertrouter.notify.together`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import OPEN, Incident, Status
from alertrouter.msg import Joined, Msg, T, join
from alertrouter.notify.queue import page
from alertrouter.notify.together import page_together
from alertrouter.policy.oncall import on_call
from alertrouter.policy.rota import plan
from alertrouter.policy.schema import Policy
from alertrouter.storms import first_page_hold
from alertrouter.timeline import Batch
from alertrouter.worker.claim import skip_locked
from hospmon.inventory.schema import EscalationStep, Team

DEFAULT_STEPS = [EscalationStep(after_minutes=0, notify=["on_call"])]


@dataclass(frozen=True)
class Pass:
    """What one escalation pass reads once and writes once: the on-call plan and the timeline."""

    policy: Policy
    timeline: Batch


def targets(
    router: Router, team: Team, step: EscalationStep, at: dt.datetime, policy: Policy | None = None
) -> tuple[list[str], list[Msg]]:
    """Return the people a step pages and notes on who could not be found, under a plan (the YAML's)."""
    people: list[str] = []
    notes: list[Msg] = []
    for who in step.notify:
        if who == "on_call":
            duty = on_call(router.inventory, policy or router.policy, team.id, at)
            if duty.person:
                people.append(duty.person)
            else:
                notes.append(T("nobody on call ({reason}); paging the lead", reason=duty.reason))
                people.extend([team.lead] if team.lead else [m.id for m in team.members])
        elif who == "lead":
            people.extend([team.lead] if team.lead else [m.id for m in team.members])
        elif who == "team":
            people.extend(m.id for m in team.members)
        else:
            people.append(who)
    return list(dict.fromkeys(people)), notes


def _due(session: Session, now: dt.datetime, limit: int) -> list[Incident]:
    """Select (on PostgreSQL: lock) the due incidents, and every due child released with one of them."""
    query = (
        select(Incident)
        .where(Incident.status == Status.triggered, Incident.next_escalation_at <= now)
        .order_by(Incident.next_escalation_at, Incident.id)
        .limit(limit)
    )
    due = list(session.execute(skip_locked(query, session)).scalars())
    parents = sorted({i.parent_id for i in due if i.parent_id is not None})
    if parents:
        seen = {i.id for i in due}
        more = (
            select(Incident)
            .where(
                Incident.status == Status.triggered,
                Incident.next_escalation_at <= now,
                Incident.parent_id.in_(parents),
            )
            .order_by(Incident.id)
        )
        due += [i for i in session.execute(skip_locked(more, session)).scalars() if i.id not in seen]
    return due


def escalate_due(router: Router, *, session: Session, now: dt.datetime, limit: int = 50) -> int:
    """Run every escalation step that is due; return how many steps ran.

    A first page may be held (`alertrouter.storms`). Children released by the same cause and due together
    are paged together: one message per person and channel listing them, per owning team.
    """
    due = _due(session, now, limit)
    if not due:
        return 0
    # Once a pass, not once a page: the plan is the same for every step now; the timeline in one statement.
    run = Pass(plan(router, session=session), Batch(session))
    ids = sorted({i.parent_id for i in due if i.parent_id is not None})
    parents = {p.id: p for p in session.execute(select(Incident).where(Incident.id.in_(ids))).scalars()}
    together: dict[tuple[int, str, int], list[tuple[Incident, str]]] = {}
    done = 0
    for inc in due:
        team = router.inventory.teams.get(inc.team or "")
        steps = (team.escalation or DEFAULT_STEPS) if team else []
        if team is None or inc.escalation_step >= len(steps):
            inc.next_escalation_at = None
            continue
        parent = parents.get(inc.parent_id) if inc.parent_id is not None else None
        if parent is not None and parent.status in OPEN:  # its cause came back: quiet under it again
            inc.next_escalation_at = None
            run.timeline.add(
                inc.id, "grouped", T("not paged: its cause #{cause} is open again", cause=parent.id), at=now
            )
            continue
        hold = first_page_hold(router, inc, parent)
        if hold is not None and hold.until > now:
            inc.next_escalation_at = hold.until
            run.timeline.add(inc.id, "held", hold.note, at=now, data={"until": hold.until.isoformat()})
            continue
        why = hold.label if hold is not None and hold.until == inc.next_escalation_at else ""
        if parent is not None:
            together.setdefault((parent.id, team.id, inc.escalation_step), []).append((inc, why))
            continue
        _step(router, [inc], team, steps, why, None, session=session, now=now, run=run)
        done += 1
    for (parent_id, team_id, _), batch in together.items():
        incs = [inc for inc, _ in batch]
        team = router.inventory.teams[team_id]
        _step(
            router,
            incs,
            team,
            team.escalation or DEFAULT_STEPS,
            batch[0][1],
            parents[parent_id],
            session=session,
            now=now,
            run=run,
        )
        done += len(incs)
    run.timeline.write()
    return done


def _step(
    router: Router,
    incs: list[Incident],
    team: Team,
    steps: list[EscalationStep],
    why: str,
    cause: Incident | None,
    *,
    session: Session,
    now: dt.datetime,
    run: Pass,
) -> None:
    """Page one step for incidents at the same step of one team: one message for all when several."""
    number = incs[0].escalation_step
    step = steps[number]
    people, notes = targets(router, team, step, now, run.policy)
    label = T("step {step} of {steps}, after {minutes} min", step=number + 1, steps=len(steps),
              minutes=step.after_minutes)  # fmt: skip
    if why:
        label = T("{step}; {why}", step=label, why=why)
    if cause is not None and len(incs) > 1:
        queued = page_together(router, incs, cause, people, label, session=session, now=now)
        label = T("{step}; one message for {count} incidents released by #{cause}", step=label,
                  count=len(incs), cause=cause.id)  # fmt: skip
    else:
        queued = page(router, incs[0], people, label, session=session, now=now)
    kind = "paged" if number == 0 else "escalated"
    nxt = steps[number + 1] if number + 1 < len(steps) else None
    text = _paged(kind, people, label, queued, notes)
    for inc in incs:
        run.timeline.add(inc.id, kind, text, at=now, data={"step": number, "people": people})
        due = inc.next_escalation_at or now
        inc.escalation_step = number + 1
        # Steps count from when paging (re)started: opened, reopened or released, not from created_at.
        wait = dt.timedelta(minutes=nxt.after_minutes - step.after_minutes) if nxt else None
        inc.next_escalation_at = due + wait if wait is not None else None


def _paged(kind: str, people: list[str], label: Msg, queued: int, notes: list[Msg]) -> Msg:
    """Say who a step paged, which step, how many messages, and whom it could not find."""
    who = Joined(tuple(people))
    text = (
        T("paged {people} ({step}; {count} messages)", people=who, step=label, count=queued)
        if kind == "paged"
        else T("escalated {people} ({step}; {count} messages)", people=who, step=label, count=queued)
    )
    return join([text, *notes]) if notes else text

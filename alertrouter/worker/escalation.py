"""Page the owner, then escalate step by step until someone acknowledges."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import Incident, Status
from alertrouter.msg import Joined, Msg, T, join
from alertrouter.notify.queue import page
from alertrouter.policy.oncall import on_call
from alertrouter.policy.rota import plan
from alertrouter.policy.schema import Policy
from alertrouter.timeline import record
from alertrouter.worker.claim import skip_locked
from hospmon.inventory.schema import EscalationStep, Team

DEFAULT_STEPS = [EscalationStep(after_minutes=0, notify=["on_call"])]


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


def escalate_due(router: Router, *, session: Session, now: dt.datetime, limit: int = 50) -> int:
    """Run every escalation step that is due; return how many steps ran."""
    query = (
        select(Incident)
        .where(Incident.status == Status.triggered, Incident.next_escalation_at <= now)
        .order_by(Incident.next_escalation_at)
        .limit(limit)
    )
    done = 0
    for inc in session.execute(skip_locked(query, session)).scalars():
        team = router.inventory.teams.get(inc.team or "")
        steps = (team.escalation or DEFAULT_STEPS) if team else []
        if team is None or inc.escalation_step >= len(steps):
            inc.next_escalation_at = None
            continue
        step = steps[inc.escalation_step]
        due = inc.next_escalation_at or now
        people, notes = targets(router, team, step, now, plan(router, session=session))
        label = T(
            "step {step} of {steps}, after {minutes} min",
            step=inc.escalation_step + 1,
            steps=len(steps),
            minutes=step.after_minutes,
        )
        queued = page(router, inc, people, label, session=session, now=now)
        kind = "paged" if inc.escalation_step == 0 else "escalated"
        record(
            session,
            inc.id,
            kind,
            _paged(kind, people, label, queued, notes),
            at=now,
            data={"step": inc.escalation_step, "people": people},
        )
        inc.escalation_step += 1
        nxt = steps[inc.escalation_step] if inc.escalation_step < len(steps) else None
        # Steps count from when paging (re)started: opened, reopened or released, not from created_at.
        wait = dt.timedelta(minutes=nxt.after_minutes - step.after_minutes) if nxt else None
        inc.next_escalation_at = due + wait if wait is not None else None
        done += 1
    return done


def _paged(kind: str, people: list[str], label: Msg, queued: int, notes: list[Msg]) -> Msg:
    """Say who a step paged, which step, how many messages, and whom it could not find."""
    who = Joined(tuple(people))
    text = (
        T("paged {people} ({step}; {count} messages)", people=who, step=label, count=queued)
        if kind == "paged"
        else T("escalated {people} ({step}; {count} messages)", people=who, step=label, count=queued)
    )
    return join([text, *notes]) if notes else text

"""What a new incident records about the alert that opens it: one place for intake and for a split."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alertrouter.context import Router
from alertrouter.models import Status
from alertrouter.msg import stored
from alertrouter.owner import Owner
from alertrouter.policy.priority import Decision


def incident_fields(
    router: Router, *, alertname: str, ci: str | None, severity: str, summary: str, firing: bool,
    decision: Decision, owner: Owner, now: dt.datetime,
) -> dict[str, Any]:  # fmt: skip
    """Return the columns of an incident opened by one alert: its title, priority and owner, each with why."""
    base = f"{alertname} on {ci or 'no CI'}"
    # State the alert once: a summary that only repeats it adds nothing.
    title = base + (f": {summary}" if summary and summary != base else "")
    return dict(
        title=title[:300],
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

"""Explain what the router would do with a webhook payload, storing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alertrouter.intake.parser import parse_webhook
from alertrouter.owner import owner_of
from alertrouter.policy.priority import Assessor


def explain(assessor: Assessor, payload: Any, *, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return, per alert, its priority and explanation, owner and where it would be grouped."""
    message = parse_webhook(payload)
    inv = assessor.inventory
    cis_in_payload = {a.ci for a in message.alerts if a.ci}
    out = []
    for alert in message.alerts:
        when = at or alert.starts_at
        decision = assessor.assess(ci=alert.ci, severity=alert.severity, at=when, alertname=alert.alertname)
        owner = owner_of(inv, assessor.policy, alert.ci, when)
        upstream = inv.depends_on_transitively(alert.ci) if alert.ci in inv.cis else []
        outage = assessor.is_outage(alert.alertname)
        root = next((c for c in upstream if c in cis_in_payload), None) if outage else None
        out.append(
            {
                "alert": alert.alertname,
                "ci": alert.ci,
                "status": alert.status,
                "priority": decision.priority,
                "explanation": decision.explanation,
                "team": owner.team,
                "on_call": owner.person,
                "owner": owner.explanation,
                "grouping": _grouping(root, outage),
            }
        )
    return out


def _grouping(root: str | None, outage: bool) -> str:
    if not outage:
        return "own incident for this CI and alert: not an outage, never grouped"
    if root:
        return f"caused by {root}: joins its incident"
    return "own incident, unless an upstream CI already has an open one"

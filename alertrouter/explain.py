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
        groupable = assessor.is_reachability(alert.alertname, alert.labels)
        root = next((c for c in upstream if c in cis_in_payload), None) if groupable else None
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
                "grouping": _grouping(assessor, alert.alertname, alert.labels, root),
            }
        )
    return out


def _grouping(assessor: Assessor, alertname: str, labels: dict[str, str], root: str | None) -> str:
    if not assessor.is_reachability(alertname, labels):
        if alertname in assessor.policy.reachability:
            key = "failure" if "failure" in labels else "reason"
            return (
                f"own incident for this CI and {alertname}, paged to its owner: its probe's {key} is"
                f" {labels.get(key)}, which is not in the policy's reachability_{key}s, so no failure"
                " upstream explains it"
            )
        return (
            f"own incident for this CI and {alertname}, paged to its owner: {alertname} is not in the"
            " policy's reachability class, so no failure upstream explains it"
        )
    if root:
        return f"own incident, grouped under {root}'s (also in this payload): not paged while it fails"
    return "own incident, grouped under the incident of a CI it depends on if one is open, else paged"

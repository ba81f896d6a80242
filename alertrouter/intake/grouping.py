"""Route new alerts to incidents: join the CI's open incident, else open one, grouped under an upstream cause.

Every alert lands in an incident on its own CI, so the CI's page and its owner's view show it. An alert of the
policy's reachability class (the CI cannot be reached, a probe fails, no data) shares one incident per CI, and
when it opens while a CI it depends on has an open reachability incident, the new incident becomes a child of
that cause: it pages nobody while the cause is open, and starts its own escalation if it outlives it. Any
other alert (a temperature, a disk, a certificate) has its own incident per CI and alert name, never grouped:
its owner is paged for it whatever fails upstream.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.db import insert_for
from alertrouter.intake.opening import incident_fields
from alertrouter.intake.parser import ParsedAlert
from alertrouter.models import Incident, IncidentDepartment
from alertrouter.msg import N_, Msg, T, msg_data, stored
from alertrouter.notify.queue import tell_assignee
from alertrouter.owner import owner_of
from alertrouter.policy.priority import Decision
from alertrouter.policy.rota import plan
from alertrouter.policy.schema import Policy
from alertrouter.settings import PRIORITIES
from alertrouter.storms import settle_hold


def open_key(alert: ParsedAlert, *, reachability: bool = True) -> str:
    """Return the key that keeps one open incident per CI and cause: ``ci:X`` for reachability alerts.

    Any other alert keeps its own incident per CI and alert name, so it is never absorbed into a failure of
    the CI or of anything upstream. An alert without a CI keeps its own, by fingerprint.
    """
    if not alert.ci:
        return f"fp:{alert.fingerprint}"
    return f"ci:{alert.ci}" if reachability else f"ci:{alert.ci}:{alert.alertname}"


GROUPED = N_("caused by {upstream} (incident #{cause}): not paged while #{root} is open")
GROUPED_VIA = N_(
    "caused by {upstream} (incident #{cause}, itself caused by #{root}): not paged while #{root} is open"
)


@dataclass(frozen=True)
class Open:
    """An open incident as the planner knows it."""

    id: int
    key: str
    priority: str
    parent_id: int | None = None


@dataclass
class Plan:
    """Where one alert goes and what its arrival writes on the timeline."""

    incident_id: int
    events: list[dict[str, Any]] = field(default_factory=list)


class Planner:
    """Routes the new alerts of one delivery, looking up each open incident once."""

    def __init__(self, router: Router, *, session: Session, now: dt.datetime) -> None:
        self.router = router
        self.session = session
        self.now = now
        self.known: dict[str, Open | None] = {}
        self.opened: set[int] = set()
        self.events: list[dict[str, Any]] = []
        self.raises: dict[int, Decision] = {}
        self._plan: Policy | None = None

    def plan(self) -> Policy:
        """Return the on-call plan in force (with the console's overrides), read once per delivery."""
        if self._plan is None:
            self._plan = plan(self.router, session=self.session)
        return self._plan

    def _event(self, incident_id: int, kind: str, text: str, **data: Any) -> dict[str, Any]:
        return {
            "incident_id": incident_id,
            "at": self.now,
            "kind": kind,
            "actor": "router",
            "text": text,
            "data": {**data, **msg_data(text)},
        }

    def _keys(self, alert: ParsedAlert) -> list[str]:
        """Return the alert's own key, then (reachability alerts only) the keys of the CIs it needs."""
        if not self.router.assessor.is_reachability(alert.alertname):
            return [open_key(alert, reachability=False)]
        inv = self.router.inventory
        upstream = inv.depends_on_transitively(alert.ci) if alert.ci in inv.cis else []
        return [open_key(alert), *(f"ci:{c}" for c in upstream)]

    def prefetch(self, alerts: list[ParsedAlert]) -> None:
        """Look up, in one query, every open incident these alerts could join."""
        keys = sorted({k for a in alerts for k in self._keys(a)} - set(self.known))
        if not keys:
            return
        self.known.update(dict.fromkeys(keys))
        rows = self.session.execute(
            select(Incident.id, Incident.open_key, Incident.priority, Incident.parent_id).where(
                Incident.open_key.in_(keys)
            )
        )
        for row in rows:
            self.known[row.open_key] = Open(row.id, row.open_key, row.priority, row.parent_id)

    def route(self, alert: ParsedAlert) -> Plan:
        """Decide the incident of a new alert, opening it if needed."""
        decision = self.router.assessor.assess(
            ci=alert.ci, severity=alert.severity, at=alert.starts_at, alertname=alert.alertname
        )
        keys = self._keys(alert)
        if any(k not in self.known for k in keys):
            self.prefetch([alert])
        target = self.known.get(keys[0])
        what = T("{alert} on {ci}", alert=alert.alertname, ci=alert.ci or T("no CI"))
        if target is None:
            cause = next((self.known[k] for k in keys[1:] if self.known.get(k) is not None), None)
            opened = self._open(alert, decision, keys[0], cause if alert.status == "firing" else None)
            if isinstance(opened, int):
                return Plan(opened)
            target = opened
        plan = Plan(target.id)
        status = (
            T("{what} firing", what=what) if alert.status == "firing" else T("{what} resolved", what=what)
        )
        plan.events.append(self._event(target.id, "alert_" + alert.status, status))
        self._raise(target, decision, what, plan.events)
        return plan

    def _raise(self, target: Open, decision: Decision, what: Msg, events: list[dict[str, Any]]) -> None:
        """Raise an open incident's priority to an alert's, if higher; note it on the timeline."""
        if PRIORITIES.index(decision.priority) >= PRIORITIES.index(target.priority):
            return
        self.raises[target.id] = decision
        events.append(
            self._event(
                target.id,
                "priority_changed",
                T(
                    "priority raised {before} -> {after} by {what}: {why}",
                    before=target.priority,
                    after=decision.priority,
                    what=what,
                    why=decision.explanation,
                ),
            )
        )
        self.known[target.key] = Open(target.id, target.key, decision.priority, target.parent_id)

    def apply_raises(self) -> None:
        """Write raised priorities, in incident order so two transactions never lock crosswise."""
        for incident_id in sorted(self.raises):
            decision = self.raises[incident_id]
            self.session.execute(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(
                    priority=decision.priority,
                    explanation=decision.explanation,
                    explanation_msg=stored(decision.explanation),
                )
            )
            tell_assignee(
                self.router,
                incident_id,
                f"priority raised to {decision.priority}",
                session=self.session,
                now=self.now,
            )

    def _open(self, alert: ParsedAlert, decision: Decision, key: str, cause: Open | None) -> int | Open:
        """Open an incident, a child of `cause` if given; return its id, or the one another replica opened."""
        owner = owner_of(self.router.inventory, self.plan(), alert.ci, self.now)
        firing = alert.status == "firing"
        # A reachability alert below other CIs waits for its cause to show up before paging (storms.py).
        hold = (
            settle_hold(self.router, alert.ci, alert.alertname, self.now)
            if cause is None and firing
            else None
        )
        now = self.now
        parent_id = (cause.parent_id or cause.id) if cause else None
        values = incident_fields(
            self.router, alertname=alert.alertname, ci=alert.ci, severity=alert.severity,
            summary=alert.annotations.get("summary", ""), firing=firing, decision=decision, owner=owner,
            now=now,
        )  # fmt: skip
        values.update(
            open_key=key if firing else None,
            parent_id=parent_id,
            next_escalation_at=(hold.until if hold else now) if firing and cause is None else None,
        )
        stmt = insert_for(self.session)(Incident).values(**values).on_conflict_do_nothing()
        incident_id: int | None = self.session.execute(stmt.returning(Incident.id)).scalar()
        if incident_id is None:
            row = self.session.execute(
                select(Incident.id, Incident.open_key, Incident.priority, Incident.parent_id).where(
                    Incident.open_key == key
                )
            ).one()
            raced = Open(row.id, row.open_key, row.priority, row.parent_id)
            self.known[key] = raced
            return raced
        self.opened.add(incident_id)
        if firing:
            self.known[key] = Open(incident_id, key, decision.priority, parent_id)
        if decision.departments:
            self.session.execute(
                insert_for(self.session)(IncidentDepartment),
                [
                    {"incident_id": incident_id, "department": d, "position": i}
                    for i, d in enumerate(decision.departments)
                ],
            )
        self.events.append(
            self._event(
                incident_id,
                "opened",
                T(
                    "opened {why}; {owner}; {hold}",
                    why=decision.explanation,
                    owner=owner.explanation,
                    hold=hold.note,
                )
                if hold
                else T("opened {why}; {owner}", why=decision.explanation, owner=owner.explanation),
                priority=decision.priority,
                team=owner.team,
                assignee=owner.person,
            )
        )
        if not firing:
            self.events.append(
                self._event(incident_id, "resolved", T("resolved: the resolve came before any firing"))
            )
        elif cause is not None:
            self._grouped(incident_id, alert, cause, decision)
        elif alert.ci in self.router.inventory.cis and key == f"ci:{alert.ci}":
            self._adopt(incident_id, alert.ci)
        return incident_id

    def _grouped(self, child: int, alert: ParsedAlert, cause: Open, decision: Decision) -> None:
        """Record a new incident as caused by an upstream one (its root, if that one is grouped too)."""
        root = cause.parent_id or cause.id
        upstream = cause.key.removeprefix("ci:")
        ids = {"upstream": upstream, "cause": cause.id, "root": root}
        text = T(GROUPED_VIA, **ids) if root != cause.id else T(GROUPED, **ids)
        self.events.append(self._event(child, "grouped", text, parent_id=root))
        self.events.append(
            self._event(
                root,
                "grouped",
                T(
                    "incident #{child} on {ci} is caused by {upstream}",
                    child=child,
                    ci=alert.ci,
                    upstream=upstream,
                ),
                child_id=child,
            )
        )
        if root == cause.id:
            what = T(
                "{alert} on {ci}, caused by {upstream}", alert=alert.alertname, ci=alert.ci, upstream=upstream
            )
            self._raise(cause, decision, what, self.events)

    def _adopt(self, root_id: int, ci: str) -> None:
        """Make open incidents of CIs depending on `ci` children of the root's incident; stop paging them."""
        keys = [f"ci:{c}" for c in self.router.inventory.dependents(ci)]
        if not keys:
            return
        children = self.session.execute(
            select(Incident.id, Incident.ci).where(
                Incident.open_key.in_(keys), Incident.parent_id.is_(None), Incident.id != root_id
            )
        ).all()
        for child in children:
            self.session.execute(
                update(Incident)
                .where(Incident.id == child.id)
                .values(parent_id=root_id, next_escalation_at=None)
            )
            self.events.append(
                self._event(
                    child.id,
                    "grouped",
                    T("caused by {ci}: joined incident #{root}", ci=ci, root=root_id),
                    parent_id=root_id,
                )
            )
            self.events.append(
                self._event(
                    root_id,
                    "grouped",
                    T(
                        "incident #{child} on {ci} is caused by {upstream}",
                        child=child.id,
                        ci=child.ci,
                        upstream=ci,
                    ),
                    child_id=child.id,
                )
            )

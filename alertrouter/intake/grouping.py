"""Route new alerts to incidents: join the CI's open incident, else open one, grouped under an upstream cause.

Every alert lands in an incident on its own CI, so the CI's page and its owner's view show it. An alert of the
policy's reachability class (the CI cannot be reached, a probe fails for a reason the network may explain, no
data: `Assessor.is_reachability`) shares one incident per CI, and when it opens while a CI it depends on has
an open reachability incident, the new incident becomes a child of that cause: it pages nobody while the
cause is open, and starts its own escalation if it outlives it. Any other alert (a temperature, a disk, a
certificate, a refused password) has its own incident per CI and alert name, never grouped: its owner is
paged for it whatever fails upstream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.intake.opening import Ids, Opening, Openings, Text, incident_fields
from alertrouter.intake.parser import ParsedAlert
from alertrouter.intake.sql import statements_for
from alertrouter.models import Incident
from alertrouter.msg import N_, Msg, T, msg_data, stored
from alertrouter.notify.queue import tell_assignee
from alertrouter.owner import owner_of
from alertrouter.policy.priority import Decision
from alertrouter.policy.rota import Entry, plan, policy_with
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
    """Routes the new alerts of one delivery in memory; `write` then stores the incidents it opens."""

    def __init__(self, router: Router, *, session: Session, now: dt.datetime) -> None:
        self.router = router
        self.session = session
        self.conn = session.connection()
        self.sql = statements_for(self.conn)
        self.now = now
        self.known: dict[str, Open | None] = {}
        self.openings = Openings()
        self.events: list[dict[str, Any]] = []
        self.raises: dict[int, Decision] = {}
        self.changes: Sequence[Entry] | None = None
        """The console's on-call changes in force, when the delivery's lookup has read them."""
        self._plan: Policy | None = None

    def plan(self) -> Policy:
        """Return the on-call plan in force (with the console's overrides), read once per delivery."""
        if self._plan is None:
            self._plan = (
                plan(self.router, session=self.session)
                if self.changes is None
                else policy_with(self.router, self.changes)
            )
        return self._plan

    def _event(self, incident_id: int, kind: str, text: Text, **data: Any) -> dict[str, Any]:
        return {
            "incident_id": incident_id,
            "at": self.now,
            "kind": kind,
            "actor": "router",
            "text": text,
            "data": {**data, **(msg_data(text) if isinstance(text, str) else {})},
        }

    def keys(self, alert: ParsedAlert) -> list[str]:
        """Return the alert's own key, then (reachability alerts only) the keys of the CIs it needs."""
        if not self.router.assessor.is_reachability(alert.alertname, alert.labels):
            return [open_key(alert, reachability=False)]
        inv = self.router.inventory
        upstream = inv.depends_on_transitively(alert.ci) if alert.ci in inv.cis else []
        return [open_key(alert), *(f"ci:{c}" for c in upstream)]

    def learn(self, keys: list[str], rows: Sequence[Any]) -> None:
        """Remember which of these keys have an open incident: the rows found, none for the others."""
        self.known.update(dict.fromkeys(keys))
        for row in rows:
            self.known[row.open_key] = Open(row.id, row.open_key, row.priority, row.parent_id)

    def prefetch(self, alerts: list[ParsedAlert]) -> None:
        """Look up, in one query, every open incident these alerts could join that is not known yet."""
        keys = sorted({k for a in alerts for k in self.keys(a)} - set(self.known))
        if keys:
            self.learn(keys, self.conn.execute(self.sql.open_incidents, {"keys": keys}).all())

    def route(self, alert: ParsedAlert) -> Plan:
        """Decide the incident of a new alert, opening it if needed."""
        decision = self.router.assessor.assess(
            ci=alert.ci, severity=alert.severity, at=alert.starts_at, alertname=alert.alertname
        )
        keys = self.keys(alert)
        if any(k not in self.known for k in keys):
            self.prefetch([alert])
        target = self.known.get(keys[0])
        if target is None:
            cause = next((self.known[k] for k in keys[1:] if self.known.get(k) is not None), None)
            return Plan(self._open(alert, decision, keys[0], cause if alert.status == "firing" else None))
        what = T("{alert} on {ci}", alert=alert.alertname, ci=alert.ci or T("no CI"))
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

    def write(self) -> None:
        """Store the incidents the routed alerts open (raise `Raced` if another replica was first)."""
        self.openings.write(self.conn, self.sql)

    def apply_raises(self) -> None:
        """Write raised priorities, in incident order so two transactions never lock crosswise."""
        real = self.openings.real
        for incident_id, decision in sorted((real(i), d) for i, d in self.raises.items()):
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
                T("priority raised to {priority}", priority=decision.priority),
                session=self.session,
                now=self.now,
            )

    def _open(self, alert: ParsedAlert, decision: Decision, key: str, cause: Open | None) -> int:
        """Open an incident, a child of `cause` if given; return its stand-in id until it is written."""
        owner = owner_of(self.router.inventory, self.plan(), alert.ci, self.now)
        firing = alert.status == "firing"
        # A reachability alert below other CIs waits for its cause to show up before paging (storms.py).
        hold = (
            settle_hold(self.router, alert.ci, key == f"ci:{alert.ci}", self.now)
            if cause is None and firing
            else None
        )
        now = self.now
        row = incident_fields(
            self.router, alertname=alert.alertname, ci=alert.ci, severity=alert.severity,
            summary=alert.annotations.get("summary", ""),
            summary_zh=alert.annotations.get("summary_zh", ""), firing=firing, decision=decision, owner=owner,
            now=now,
        )  # fmt: skip
        row.update(
            open_key=key if firing else None,
            next_escalation_at=(hold.until if hold else now) if firing and cause is None else None,
        )
        parent_id = (cause.parent_id or cause.id) if cause else None
        opening = self.openings.add(row, parent_id, decision.departments)
        incident_id = opening.stand_in
        if firing:
            self.known[key] = Open(incident_id, key, decision.priority, parent_id)
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
            self._adopt(opening, alert.ci)
        return incident_id

    def _grouped(self, child: int, alert: ParsedAlert, cause: Open, decision: Decision) -> None:
        """Record a new incident as caused by an upstream one (its root, if that one is grouped too)."""
        root = cause.parent_id or cause.id
        upstream = cause.key.removeprefix("ci:")
        self.events.append(
            self._event(
                child,
                "grouped",
                lambda real: (
                    T(GROUPED_VIA, upstream=upstream, cause=real(cause.id), root=real(root))
                    if root != cause.id
                    else T(GROUPED, upstream=upstream, cause=real(cause.id), root=real(root))
                ),
                parent_id=root,
            )
        )
        self.events.append(
            self._event(
                root,
                "grouped",
                lambda real: T(
                    "incident #{child} on {ci} is caused by {upstream}",
                    child=real(child),
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

    def _adopt(self, root: Opening, ci: str) -> None:
        """Make open incidents of CIs depending on `ci` children of the root's incident; stop paging them."""
        keys = [f"ci:{c}" for c in self.router.inventory.dependents(ci)]
        if not keys:
            return
        root_id = root.stand_in

        def joined(real: Ids) -> Msg:
            return T("caused by {ci}: joined incident #{root}", ci=ci, root=real(root_id))

        for child in self.conn.execute(self.sql.children, {"keys": keys}).all():
            root.adopted.append(child.id)
            self.events.append(self._event(child.id, "grouped", joined, parent_id=root_id))
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

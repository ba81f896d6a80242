"""Run one scenario: alerts through a real Alertmanager into the router, its worker on a scenario clock.

The router runs in this process (so its clock can be set) behind the chain's front door; Alertmanager keeps
its own real clock. Alerts are posted with their scenario start times (all in the past, so Alertmanager treats
them as it treats any alert) and the router decides as if it were that moment. Between steps the clock
moves to each due escalation or retry, and every quarter hour, with one worker pass per move: a night runs in
seconds and pages are stamped with the scenario time they were sent at.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.app import create_app
from alertrouter.console.changes import create_change
from alertrouter.context import load_router
from alertrouter.db import transaction
from alertrouter.models import Alert, Delivery, Incident, Notification, Status
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.state import AppState
from alertrouter.worker.run import Worker
from tests.scenarios import chain as am
from tests.scenarios.alerts import iso, labels_of, posted, summary_of
from tests.scenarios.chain import Chain
from tests.scenarios.model import AlertRef, ChangeWindow, Person, Scenario, Step
from tests.scenarios.setup import Clock, Page, local_time, router_config

SETTLE_SECONDS = 60.0


class RouterDied(BaseException):
    """The router process ends here (a BaseException, so the outbox's error handling cannot catch it)."""


@dataclass
class Window:
    """A change's silences in Alertmanager and when the runner ends them."""

    until: dt.datetime
    silences: list[tuple[str, str]] = field(default_factory=list)


class ScenarioRun:
    """The router, its worker and its clock for one scenario, and what reached the sinks."""

    def __init__(self, scenario: Scenario, name: str, chain: Chain, workdir: Path, template: Path) -> None:
        self.sc, self.name, self.chain = scenario, name, chain
        self.clock = Clock(local_time(scenario.start, dt.date.min).astimezone(dt.UTC))
        setup = scenario.alertmanager
        self.managers = [chain.alertmanager(max_alerts=setup.max_alerts)]
        if setup.pair:
            self.managers.append(chain.alertmanager(max_alerts=setup.max_alerts, peer=1))
        shutil.copy(template, workdir / "router.db")
        self.router = load_router(
            router_config(workdir, scenario, chain, self.managers[0] if setup.max_alerts else None)
        )
        self.app = create_app(self.router)
        self.state: AppState = self.app.extensions["hospmon_router"]
        self.state.now = self.clock.now
        self.refuse = self.crash = 0
        self.worker = self._start_worker()
        self.client: FlaskClient = self.app.test_client()
        self.inv = self.router.inventory
        members = [m for t in self.inv.teams.values() for m in t.members]
        self.by_email = {m.contacts.email: m.id for m in members if m.contacts.email}
        self.by_phone = {m.contacts.phone: m.id for m in members if m.contacts.phone}
        self.pages: list[Page] = []
        self.firing: dict[frozenset[tuple[str, str]], dict[str, Any]] = {}
        self.windows: list[Window] = []
        self.fingerprints: dict[frozenset[tuple[str, str]], str] = {}
        self.notified: set[str] = set()
        """Fingerprints Alertmanager held as active: it sends their resolve too."""
        self._mail_seen = len(chain.smtp.mailbox.messages)
        self._sms_seen = len(chain.sms.posts)
        chain.front.apps[name] = self.app

    # -- moving the clock -------------------------------------------------------------------------------

    def _start_worker(self) -> Worker:
        state, clock = self.state, self.clock
        return Worker(self.router, state.sessions, now=clock.now, lock=state.write_lock, sender=self._send)

    def _send(self, *args: Any) -> None:
        """Send through the real channel, unless the step made it refuse; die after it if the step says so."""
        if self.refuse:
            self.refuse -= 1
            raise DeliveryError("451 4.3.2 try again later")
        send(*args)
        if self.crash:
            self.crash -= 1
            raise RouterDied

    def run_pass(self) -> None:
        """Run the worker once at the scenario time; stamp what reached the sinks with that time."""
        try:
            self.worker.run_once()
        except RouterDied:
            self.worker = self._start_worker()  # restarted, its pass cut short
        mail = self.chain.smtp.mailbox.messages
        for msg in mail[self._mail_seen :]:
            who = self.by_email.get(str(msg["To"]), str(msg["To"]))
            self.pages.append(Page(who, "email", self.clock.at, str(msg["Subject"])))
        self._mail_seen = len(mail)
        sms = self.chain.sms.posts
        for _path, body in sms[self._sms_seen :]:
            who = self.by_phone.get(body.get("to", ""), body.get("to", ""))
            self.pages.append(Page(who, "sms", self.clock.at, str(body.get("title", ""))))
        self._sms_seen = len(sms)

    def _next_due(self) -> dt.datetime | None:
        now = self.clock.at
        with self.state.sessions() as session:
            times = [
                session.execute(
                    select(func.min(Incident.next_escalation_at)).where(
                        Incident.status == Status.triggered, Incident.next_escalation_at > now
                    )
                ).scalar(),
                session.execute(
                    select(func.min(Notification.next_attempt_at)).where(
                        Notification.status == "pending", Notification.next_attempt_at > now
                    )
                ).scalar(),
                session.execute(  # a message a dead worker held is free again when its lease runs out
                    select(func.min(Notification.lease_until)).where(Notification.lease_until > now)
                ).scalar(),
            ]
        times.extend(w.until for w in self.windows if w.until > now)
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def advance_to(self, target: dt.datetime) -> None:
        """Move the clock to `target`, stopping at each due moment and every quarter hour for a pass."""
        while self.clock.at < target:
            now = self.clock.at
            quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
            quarter += dt.timedelta(minutes=15)
            due = self._next_due()
            self.clock.at = min(t for t in (target, quarter, due) if t is not None)
            self._end_windows()
            self.run_pass()

    # -- what happens in a step -------------------------------------------------------------------------

    def do(self, step: Step, day: dt.date) -> None:
        """Perform one step at the scenario time it names."""
        self.advance_to(local_time(step.at, day).astimezone(dt.UTC))
        if step.change:
            self._change(step.change, day, record=True)
        if step.silence:
            self._change(step.silence, day, record=False)
        if step.sms_gateway:
            self.chain.sms.status = 503 if step.sms_gateway == "down" else 200
        if step.lose_deliveries:
            self.chain.front.lose[self.name] = step.lose_deliveries
        self.refuse += step.channels_refuse
        self.crash += step.crash_after_send
        if step.fire or step.resolve:
            self._post(step.fire, step.resolve, day, lossy=bool(step.lose_deliveries))
        if step.acknowledge:
            self._act(step.acknowledge, "acknowledge")
        if step.resolve_incident:
            self._act(step.resolve_incident, "resolve")
        if step.alertmanager_resends:
            self._await_resend()
        self.run_pass()

    def _post(self, fire: list[AlertRef], resolve: list[AlertRef], day: dt.date, *, lossy: bool) -> None:
        now = self.clock.at
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        bodies, resolved = [], []
        for ref in fire:
            labels = labels_of(ref, self.inv, self.name)
            starts = local_time(ref.since, day).astimezone(dt.UTC) if ref.since else now
            body = posted(labels, summary_of(ref, labels), starts, later)
            self.firing[frozenset(labels.items())] = body
            bodies.append(body)
        for ref in resolve:
            labels = labels_of(ref, self.inv, self.name)
            body = self.firing.pop(frozenset(labels.items()), None)
            if body is None:
                raise ValueError(f"{ref.alertname} on {ref.ci} is resolved but was never fired")
            bodies.append({**body, "endsAt": iso(now)})
            resolved.append(labels)
        for url in self.managers:
            am.post_alerts(url, bodies)
        self.settle(resolved, lossy=lossy)

    def _stored(self) -> dict[str, tuple[str, int]]:
        with self.state.sessions() as session:
            rows = session.execute(select(Alert.fingerprint, Alert.status, Alert.receive_count)).all()
        return {r.fingerprint: (r.status, r.receive_count) for r in rows}

    def settle(self, resolved: list[dict[str, str]], *, lossy: bool = False) -> None:
        """Wait until the router holds every alert Alertmanager will deliver, and the resolves sent.

        With `lossy`, wait instead until the deliveries to lose are lost.
        """
        deadline = time.monotonic() + SETTLE_SECONDS
        want_resolved = {frozenset(x.items()) for x in resolved}
        fingerprints = self.fingerprints
        while True:
            states = am.alert_states(self.managers[0], self.name)
            for a in states:
                fingerprints[frozenset(a["labels"].items())] = a["fingerprint"]
                if a["status"]["state"] == "active":
                    self.notified.add(a["fingerprint"])
            stored = self._stored()
            pending = [a for a in states if a["status"]["state"] == "unprocessed"]
            missing = [
                a for a in states if a["status"]["state"] == "active" and a["fingerprint"] not in stored
            ]
            if lossy:
                missing = [a for a in missing if self.chain.front.lose.get(self.name, 0) > 0]
            unresolved = [
                key
                for key in want_resolved
                if fingerprints.get(key) in self.notified
                and stored.get(fingerprints[key], ("firing", 0))[0] != "resolved"
            ]
            if not pending and not missing and not unresolved:
                return
            if missing and self._fetch_pending():
                self.run_pass()
                continue
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Alertmanager did not deliver within {SETTLE_SECONDS:.0f} s: "
                    f"missing {[a['labels'] for a in missing]}, unresolved {[dict(k) for k in unresolved]}"
                )
            time.sleep(0.05)

    def _fetch_pending(self) -> bool:
        with self.state.sessions() as session:
            return bool(
                session.execute(
                    select(func.count()).select_from(Delivery).where(Delivery.fetch_status == "pending")
                ).scalar()
            )

    def _await_resend(self) -> None:
        """Wait for two more completed deliveries of this scenario: Alertmanager repeating what fires."""
        seen = self.chain.front.completed(self.name)
        deadline = time.monotonic() + SETTLE_SECONDS
        while self.chain.front.completed(self.name) < seen + 2:
            if time.monotonic() > deadline:
                raise AssertionError("Alertmanager sent nothing again within the wait")
            time.sleep(0.05)

    def incident_id(self, ci: str, alertname: str | None) -> int:
        """Return the newest incident on a CI (and alert name)."""
        found = [
            i
            for i in self.api("/api/v1/incidents?limit=500")["incidents"]
            if i["ci"] == ci and (alertname is None or i["alertname"] == alertname)
        ]
        if not found:
            raise AssertionError(f"no incident on {ci} {alertname or ''} to act on")
        return int(max(i["id"] for i in found))

    def _act(self, who: Person, action: str) -> None:
        incident = self.incident_id(who.ci, who.alertname)
        resp = self.client.post(
            f"/api/v1/incidents/{incident}/{action}",
            json={"note": who.note} if who.note else {},
            headers={"Authorization": f"Bearer token-for-{who.by}"},
        )
        assert resp.status_code == 200, f"{action} of #{incident} by {who.by}: {resp.status_code} {resp.text}"

    def api(self, path: str) -> Any:
        """GET a path of the router's JSON API as the network lead."""
        resp = self.client.get(path, headers={"Authorization": "Bearer token-for-wang.lei"})
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text}"
        return resp.json

    # -- changes ----------------------------------------------------------------------------------------

    def _change(self, change: ChangeWindow, day: dt.date, *, record: bool) -> None:
        """Silence the CIs in every Alertmanager for the window; record the change in the router if asked.

        The router would create the silence itself from its own clock; here Alertmanager's clock is the real
        one, so the runner sets the silence on that clock and ends it when the scenario clock passes the end.
        """
        until = local_time(change.until, day).astimezone(dt.UTC)
        if record:
            self._record_change(change, until)
        window = Window(until)
        ends = iso(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        matchers = {"ci": "|".join(change.cis), "scenario": self.name}
        for url in self.managers:
            window.silences.append((url, am.silence(url, matchers, ends, change.title, change.by)))
        self.windows.append(window)

    def _record_change(self, change: ChangeWindow, until: dt.datetime) -> None:
        with transaction(self.state.sessions, self.state.write_lock) as session:
            create_change(
                change.title,
                session=session,
                cis=change.cis,
                starts=self.clock.at,
                ends=until,
                recurrence="none",
                until=None,
                description="",
                author=change.by,
                now=self.clock.at,
            )

    def _end_windows(self) -> None:
        for window in self.windows:
            if window.silences and window.until <= self.clock.at:
                for url, silence_id in window.silences:
                    am.expire_silence(url, silence_id)
                window.silences.clear()
                self.settle([])

    def close(self) -> None:
        """Resolve what still fires, forget this scenario at the front door, release the store."""
        self.chain.front.apps.pop(self.name, None)
        self.chain.sms.status = 200
        ended = iso(dt.datetime.now(dt.UTC))
        bodies = [{**b, "endsAt": ended} for b in self.firing.values()]
        for url in self.managers:
            if bodies:
                am.post_alerts(url, bodies)
        for window in self.windows:
            for url, silence_id in window.silences:
                am.expire_silence(url, silence_id)
        self.state.engine.dispose()

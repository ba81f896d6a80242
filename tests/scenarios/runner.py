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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from alertrouter.app import create_app
from alertrouter.console.changes import create_change
from alertrouter.context import load_router
from alertrouter.db import transaction
from alertrouter.models import Incident, Notification, Status
from alertrouter.notify.channels import DeliveryError, send
from alertrouter.state import AppState
from alertrouter.worker.run import Worker
from tests.scenarios import chain as am
from tests.scenarios.alerts import iso
from tests.scenarios.chain import Chain
from tests.scenarios.delivery import Deliveries
from tests.scenarios.model import ChangeWindow, Person, Scenario, Step
from tests.scenarios.setup import Clock, Page, local_time, router_config


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
        self.out = Deliveries(name, chain, self.managers, self.inv, self.state.sessions, self.run_pass)
        self.windows: list[Window] = []
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
            self.out.post(step.fire, step.resolve, day, self.clock.at, lossy=bool(step.lose_deliveries))
        if step.acknowledge:
            self._act(step.acknowledge, "acknowledge")
        if step.resolve_incident:
            self._act(step.resolve_incident, "resolve")
        if step.alertmanager_resends:
            self.out.await_resend()
        self.run_pass()

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
                self.out.settle([])

    def close(self) -> None:
        """Resolve what still fires, forget this scenario at the front door, release the store."""
        self.chain.front.apps.pop(self.name, None)
        self.chain.sms.status = 200
        self.out.resolve_all()
        for window in self.windows:
            for url, silence_id in window.silences:
                am.expire_silence(url, silence_id)
        self.state.engine.dispose()

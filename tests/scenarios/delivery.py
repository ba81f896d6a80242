"""Post a step's alerts to the Alertmanagers, as Prometheus would, and wait until they are delivered.

A copy of an alert (an HA pair's other Prometheus, with another start) may go to one Alertmanager of a pair
only, as when the other's copy is late. The wait ends when the router has taken, from some Alertmanager, every
alert each of them holds active, with the start that Alertmanager holds for it, and the resolves asked for.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alertrouter.models import Alert, Delivery
from hospmon.inventory import Inventory
from tests.scenarios import chain as am
from tests.scenarios.alerts import iso, labels_of, posted, summary_of
from tests.scenarios.chain import Chain
from tests.scenarios.model import AlertRef
from tests.scenarios.setup import local_time

SETTLE_SECONDS = 60.0
Labels = frozenset[tuple[str, str]]


class Deliveries:
    """What the scenario posted that still fires, and the waiting for Alertmanager to deliver it."""

    def __init__(
        self,
        name: str,
        chain: Chain,
        managers: list[str],
        inv: Inventory,
        sessions: sessionmaker[Session],
        run_pass: Callable[[], None],
    ) -> None:
        self.name, self.chain, self.managers, self.inv = name, chain, managers, inv
        self.sessions, self.run_pass = sessions, run_pass
        self.firing: dict[tuple[Labels, str], tuple[dict[str, Any], list[str]]] = {}
        """Each copy posted and not resolved yet, by labels and start: its body and where it went."""
        self.fingerprints: dict[Labels, str] = {}
        self.notified: set[str] = set()
        """Fingerprints Alertmanager held as active: it sends their resolve too."""

    def post(
        self, fire: list[AlertRef], resolve: list[AlertRef], day: dt.date, now: dt.datetime, *, lossy: bool
    ) -> None:
        """Post the firing copies and the resolves of every copy named, then wait for their delivery."""
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        out: dict[str, list[dict[str, Any]]] = {url: [] for url in self.managers}
        resolved = []
        for ref in fire:
            labels = labels_of(ref, self.inv, self.name)
            starts = local_time(ref.since, day).astimezone(dt.UTC) if ref.since else now
            body = posted(labels, summary_of(ref, labels), starts, later)
            to = self.managers if ref.only_alertmanager is None else [self.managers[ref.only_alertmanager]]
            self.firing[(frozenset(labels.items()), body["startsAt"])] = (body, to)
            for url in to:
                out[url].append(body)
        for ref in resolve:
            labels = labels_of(ref, self.inv, self.name)
            since = iso(local_time(ref.since, day)) if ref.since else None
            copies = [k for k in self.firing if k[0] == frozenset(labels.items()) and since in (None, k[1])]
            if not copies:
                raise ValueError(f"{ref.alertname} on {ref.ci} is resolved but was never fired")
            for key in copies:  # each Prometheus sends its resolve to every Alertmanager
                body, _ = self.firing.pop(key)
                for url in self.managers:
                    out[url].append({**body, "endsAt": iso(now)})
            resolved.append(labels)
        for url, bodies in out.items():
            if bodies:
                am.post_alerts(url, bodies)
        self.settle(resolved, lossy=lossy)

    def _stored(self) -> tuple[dict[str, str], set[tuple[str, dt.datetime]]]:
        """Return the status of each stored fingerprint (its newest start's) and each stored copy."""
        with self.sessions() as session:
            rows = session.execute(
                select(Alert.fingerprint, Alert.status, Alert.starts_at).order_by(Alert.starts_at)
            ).all()
        return {r.fingerprint: r.status for r in rows}, {(r.fingerprint, r.starts_at) for r in rows}

    def settle(self, resolved: list[dict[str, str]], *, lossy: bool = False) -> None:
        """Wait until the router took every alert each Alertmanager will deliver, and the resolves sent.

        With `lossy`, wait instead until the deliveries to lose are lost.
        """
        deadline = time.monotonic() + SETTLE_SECONDS
        want_resolved = {frozenset(x.items()) for x in resolved}
        before = self.chain.front.passed(self.name)
        while True:
            states = [a for url in self.managers for a in am.alert_states(url, self.name)]
            for a in states:
                self.fingerprints[frozenset(a["labels"].items())] = a["fingerprint"]
                if a["status"]["state"] == "active":
                    self.notified.add(a["fingerprint"])
            status, copies = self._stored()
            passed = self.chain.front.passed(self.name)
            taken = copies | {(fp, starts) for fp, state, starts in passed if state == "firing"}
            pending = [a for a in states if a["status"]["state"] == "unprocessed"]
            missing = [
                a
                for a in states
                if a["status"]["state"] == "active"
                and (a["fingerprint"], am.when(a["startsAt"])) not in taken
            ]
            if lossy:
                missing = [a for a in missing if self.chain.front.lose.get(self.name, 0) > 0]
            ended = {fp for fp, state, _ in passed - before if state == "resolved"}
            unresolved = [
                key
                for key in want_resolved
                if (fp := self.fingerprints.get(key)) in self.notified
                and fp not in ended
                and status.get(fp or "", "firing") != "resolved"
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
        with self.sessions() as session:
            return bool(
                session.execute(
                    select(func.count()).select_from(Delivery).where(Delivery.fetch_status == "pending")
                ).scalar()
            )

    def await_resend(self) -> None:
        """Wait for two more completed deliveries of this scenario: Alertmanager repeating what fires."""
        seen = self.chain.front.completed(self.name)
        deadline = time.monotonic() + SETTLE_SECONDS
        while self.chain.front.completed(self.name) < seen + 2:
            if time.monotonic() > deadline:
                raise AssertionError("Alertmanager sent nothing again within the wait")
            time.sleep(0.05)

    def resolve_all(self) -> None:
        """Resolve every copy still firing in every Alertmanager (the scenario is over)."""
        ended = iso(dt.datetime.now(dt.UTC))
        bodies = [{**body, "endsAt": ended} for body, _ in self.firing.values()]
        if bodies:
            for url in self.managers:
                am.post_alerts(url, bodies)

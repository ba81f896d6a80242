"""Release records: a version change seen on a CI is linked to the release that planned it, or becomes an
incident "version changed without a release record" for the CI's team.

Prometheus raises ``VersionChanged`` (rules/releases.yml) with ``ci``, ``component``, ``version`` and
``previous_version`` when a CI reports a software version it did not report before. At intake, before
routing, each new firing ``VersionChanged`` is matched with the release records of the console's changes:

- a release (not cancelled) of that CI, or of the CI's service, whose window (with `GRACE` either side)
  holds the moment the new version was first seen, and whose "version to" is the version seen (equal, or
  found in it as a whole word, so "V200R019C10SPC800" matches a device's whole sysDescr);
- if one matches, the observation is stored against it and the alert opens no incident (its repeats and its
  resolve are absorbed too); if none does, the alert goes on to open its incident, its summary saying so.

A release recorded after the fact links the open incidents it explains and resolves them (`link_open`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.console.models import Change, ReleaseObservation
from alertrouter.incidents import alerts_of, resolve
from alertrouter.intake.parser import ParsedAlert, WebhookMessage
from alertrouter.models import OPEN, Alert, Incident
from alertrouter.msg import T
from hospmon.inventory import Inventory

ALERTNAME = "VersionChanged"
GRACE = dt.timedelta(hours=2)
"""How far before or after its planned window a release still explains a version change."""
UNRECORDED = "version changed without a release record"


def version_matches(recorded: str, seen: str) -> bool:
    """Tell whether the version a release records is the version seen (equal, or a whole word of it)."""
    recorded, seen = recorded.strip().casefold(), seen.strip().casefold()
    if not recorded:
        return False
    if recorded == seen:
        return True
    return re.search(rf"(?<![\w.]){re.escape(recorded)}(?![\w.])", seen) is not None


def _concerns(change: Change, ci: str, inventory: Inventory) -> bool:
    if ci in change.cis or change.system == ci:
        return True
    service = inventory.cis[ci].service if ci in inventory.cis else None
    return bool(service) and change.system == service


def find_release(
    ci: str, version: str, at: dt.datetime, *, session: Session, inventory: Inventory
) -> Change | None:
    """Return the release record explaining `ci` running `version` from moment `at`, if there is one."""
    stmt = select(Change).where(
        Change.kind == "release",
        Change.status != "cancelled",
        Change.starts_at <= at + GRACE,
        Change.ends_at >= at - GRACE,
    )
    for change in session.execute(stmt.order_by(Change.starts_at.desc())).scalars():
        if _concerns(change, ci, inventory) and version_matches(change.version_to, version):
            return change
    return None


def _observe(change: Change, alert: ParsedAlert | Alert, now: dt.datetime) -> ReleaseObservation:
    return ReleaseObservation(
        change_id=change.id,
        ci=alert.ci or "",
        component=alert.labels.get("component", "")[:64],
        version_from=alert.labels.get("previous_version", "")[:200],
        version_to=alert.labels.get("version", "")[:200],
        observed_at=alert.starts_at,
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        linked_at=now,
    )


def screen(
    message: WebhookMessage, *, session: Session, inventory: Inventory, now: dt.datetime
) -> WebhookMessage:
    """Link the delivery's version changes to release records; return it without the alerts linked."""
    candidates = [a for a in message.alerts if a.alertname == ALERTNAME and a.ci]
    if not candidates:
        return message
    rows = session.execute(
        select(ReleaseObservation.fingerprint, ReleaseObservation.starts_at).where(
            ReleaseObservation.fingerprint.in_({a.fingerprint for a in candidates})
        )
    )
    linked = {(fingerprint, starts_at) for fingerprint, starts_at in rows}
    kept: list[ParsedAlert] = []
    for alert in message.alerts:
        if alert.alertname != ALERTNAME or not alert.ci:
            kept.append(alert)
        elif (alert.fingerprint, alert.starts_at) in linked:
            continue  # a repeat or the resolve of a change already linked to its release
        elif alert.status != "firing":
            kept.append(alert)
        else:
            release = find_release(
                alert.ci,
                alert.labels.get("version", ""),
                alert.starts_at,
                session=session,
                inventory=inventory,
            )
            if release is None:
                summary = alert.annotations.get("summary", "")
                notes = {
                    **alert.annotations,
                    "summary": f"{UNRECORDED}: {summary}" if summary else UNRECORDED,
                }
                kept.append(dataclasses.replace(alert, annotations=notes))
            else:
                session.add(_observe(release, alert, now))
                linked.add((alert.fingerprint, alert.starts_at))
    return dataclasses.replace(message, alerts=kept)


def link_open(
    change: Change, *, session: Session, inventory: Inventory, actor: str, now: dt.datetime
) -> list[int]:
    """Link a release recorded after the fact to the open incidents of version changes it explains, and
    resolve them; return their ids."""
    if change.kind != "release":
        return []
    stmt = select(Incident.id, Incident.ci).where(Incident.alertname == ALERTNAME, Incident.status.in_(OPEN))
    done = []
    for incident_id, ci in session.execute(stmt).all():
        if ci is None or not _concerns(change, ci, inventory):
            continue
        seen = next(
            (
                a
                for a in alerts_of(incident_id, session=session)
                if version_matches(change.version_to, a.labels.get("version", ""))
                and change.starts_at - GRACE <= a.starts_at <= change.ends_at + GRACE
            ),
            None,
        )
        if seen is None:
            continue
        session.add(_observe(change, seen, now))
        note = T("explained by release record {change} ({title})", change=change.id, title=change.title)
        resolve(incident_id, session=session, by=actor, note=note, now=now)
        done.append(incident_id)
    return done


def observations(change_ids: list[int], *, session: Session) -> dict[int, list[ReleaseObservation]]:
    """Return the version changes linked to each of these changes, oldest first."""
    found: dict[int, list[ReleaseObservation]] = {}
    if not change_ids:
        return found
    stmt = (
        select(ReleaseObservation)
        .where(ReleaseObservation.change_id.in_(change_ids))
        .order_by(ReleaseObservation.observed_at)
    )
    for row in session.execute(stmt).scalars():
        found.setdefault(row.change_id, []).append(row)
    return found

"""Hold a first page while its cause may still show up: the settle hold and the release grace.

Both are the policy's `storms` (docs/router.md, "Storms"). A reachability incident on a CI with upstream CIs
waits `settle_seconds` from its opening, so that the alert of a failing switch above it, sent by Alertmanager
a moment later, can adopt it before anyone is paged. A child still failing when its cause resolves waits
`release_grace_seconds` from that resolve, so that probes which turn green at their next scrape are closed
without a page. A hold only ever delays the first page of an incident since paging (re)started. The settle
hold is set when the incident opens (`alertrouter.intake.grouping`), so the incidents a storm holds are not
due before it ends; the release grace when the worker finds a released child due (`worker.escalation`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alertrouter.context import Router
from alertrouter.models import OPEN, Incident
from alertrouter.msg import Joined, Msg, T


@dataclass(frozen=True)
class Hold:
    """Until when a first page waits, what the timeline says when it starts, and what the page says after.

    Both are messages (`alertrouter.msg`): the timeline and the page say them in their reader's language.
    """

    until: dt.datetime
    note: Msg
    label: Msg


def _names(cis: list[str], most: int = 3) -> Joined | Msg:
    shown = Joined(tuple(cis[:most]))
    return T("{names} and {count} more", names=shown, count=len(cis) - most) if len(cis) > most else shown


def settle_hold(router: Router, ci: str | None, reachability: bool, opened: dt.datetime) -> Hold | None:
    """Return the hold on the first page of an incident opened for an alert, or None when it pages at once.

    Only a reachability incident (one a failure upstream can explain: `Assessor.is_reachability`) waits.
    """
    found = router.inventory.cis.get(ci or "")
    settle = router.policy.storms.settle_seconds
    if found is None or not found.depends_on or not settle or not reachability:
        return None
    until = opened + dt.timedelta(seconds=settle)
    upstream = _names(router.inventory.depends_on_transitively(found.id))
    return Hold(
        until,
        T(
            "first page held until {until} ({settle} s to settle): a failure upstream ({upstream}) would "
            "explain this; if one is reported meanwhile, this incident joins it and pages nobody",
            until=f"{until.astimezone(router.inventory.tz):%H:%M:%S}",
            settle=settle,
            upstream=upstream,
        ),
        T("held {settle} s for a failure upstream; none was reported", settle=settle),
    )


def release_hold(router: Router, parent: Incident) -> Hold | None:
    """Return the hold on the first page of a child its resolved cause released, or None."""
    grace = router.policy.storms.release_grace_seconds
    if parent.status in OPEN or parent.resolved_at is None or not grace:
        return None
    until = parent.resolved_at + dt.timedelta(seconds=grace)
    cause = T("#{id} on {ci}", id=parent.id, ci=parent.ci or T("no CI"))
    return Hold(
        until,
        T(
            "first page held until {until} (release grace {grace} s after {cause} resolved): a probe behind "
            "a cause that is back turns green within a scrape or two; if this one does, nobody is paged",
            until=f"{until.astimezone(router.inventory.tz):%H:%M:%S}",
            grace=grace,
            cause=cause,
        ),
        T("still failing {grace} s after {cause} resolved", grace=grace, cause=cause),
    )


def first_page_hold(router: Router, inc: Incident, parent: Incident | None) -> Hold | None:
    """Return the hold on an incident's first page since paging (re)started, or None."""
    if inc.escalation_step != 0:
        return None
    if parent is not None:
        return release_hold(router, parent)
    # Intake keys a reachability incident by its CI alone (grouping.open_key).
    return settle_hold(router, inc.ci, inc.open_key == f"ci:{inc.ci}", inc.created_at)

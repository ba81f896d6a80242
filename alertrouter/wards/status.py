"""What the wards see: each service working, slow or down, from the router's open incidents.

A service is down while an open incident of a critical outage alert reaches it (on one of its CIs, or on a CI
they depend on, such as a core switch); slow while any other open incident does; else working. A playbook's
condition holds once its service has been down for ``down_minutes`` while one of its departments is open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from alertrouter.context import Router
from alertrouter.models import OPEN, Incident
from alertrouter.policy.priority import department_open
from alertrouter.wards.playbooks import Playbook


class State(StrEnum):
    """How a service looks from a ward."""

    working = "working"
    slow = "slow"
    down = "down"


@dataclass(frozen=True)
class ServiceState:
    """A service's state, since when, and the open incidents behind it."""

    service: str
    state: State
    since: dt.datetime | None
    incidents: tuple[int, ...]


def reached_services(router: Router, inc: Incident) -> list[str]:
    """Return the services an incident reaches: its CI's and those of every CI depending on it."""
    inv = router.inventory
    if inc.ci and inc.ci in inv.cis:
        return inv.services_affected(inc.ci)
    return [inc.service] if inc.service else []


def service_states(router: Router, *, session: Session) -> dict[str, ServiceState]:
    """Return every service's state from the open incidents."""
    open_incidents = session.execute(
        select(Incident).where(Incident.status.in_(OPEN)).order_by(Incident.created_at)
    ).scalars()
    worst: dict[str, tuple[State, dt.datetime, list[int]]] = {}
    for inc in open_incidents:
        down = inc.severity == "critical" and router.assessor.is_outage(inc.alertname)
        state = State.down if down else State.slow
        for service in reached_services(router, inc):
            known = worst.get(service)
            if known is None or (state is State.down and known[0] is State.slow):
                worst[service] = (state, inc.created_at, [inc.id])
            elif known[0] is state:
                known[2].append(inc.id)
    return {
        svc: ServiceState(svc, *(worst[svc][:2]), tuple(worst[svc][2]))
        if svc in worst
        else ServiceState(svc, State.working, None, ())
        for svc in router.inventory.services
    }


def condition_holds(router: Router, book: Playbook, state: ServiceState, now: dt.datetime) -> bool:
    """Tell whether a playbook applies now: its service down long enough while a listed department works."""
    if state.state is not State.down or state.since is None:
        return False
    if now - state.since < dt.timedelta(minutes=book.when.down_minutes):
        return False
    if not book.when.departments_open:
        return True
    local = now.astimezone(router.inventory.tz)
    depts = router.inventory.departments
    return any(department_open(depts[d], local, router.calendar) for d in book.when.departments_open)

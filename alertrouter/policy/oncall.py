"""Who is on call for a team at a moment: rotation, then overrides, then absences; and gaps ahead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alertrouter.msg import N_, T
from alertrouter.policy.schema import Policy
from hospmon.inventory import Inventory
from hospmon.inventory.schema import Team


@dataclass(frozen=True)
class OnCall:
    """The person on call (None: nobody) and why."""

    person: str | None
    reason: str


def rotation_person(team: Team, local: dt.datetime) -> tuple[str | None, str]:
    """Return whom the rotation names at a local time, and why."""
    rot = team.rotation
    if rot is None:
        return None, T("team {team} has no rotation", team=team.id)
    hh, mm = (int(x) for x in rot.handover.split(":"))
    first = dt.datetime.combine(rot.start, dt.time(hh, mm), tzinfo=local.tzinfo)
    if local < first:
        return None, T("rotation of {team} starts {time}", team=team.id, time=f"{first:%Y-%m-%d %H:%M}")
    length = dt.timedelta(days=1 if rot.period == "daily" else 7)
    # Count hand-overs in local wall time so a DST change never shifts them.
    naive_now, naive_first = local.replace(tzinfo=None), first.replace(tzinfo=None)
    turns = int((naive_now - naive_first) / length)
    person = rot.order[turns % len(rot.order)]
    since = naive_first + turns * length
    period = T(N_("daily rotation") if rot.period == "daily" else N_("weekly rotation"))
    return person, T("{rotation} since {time}", rotation=period, time=f"{since:%Y-%m-%d %H:%M}")


def on_call(inventory: Inventory, policy: Policy, team_id: str, at: dt.datetime) -> OnCall:
    """Return who answers for a team at a moment."""
    team = inventory.teams[team_id]
    for ov in policy.overrides:
        if ov.team == team_id and ov.start <= at < ov.end:
            return OnCall(
                ov.person,
                T("override until {time}", time=f"{ov.end.astimezone(inventory.tz):%Y-%m-%d %H:%M}"),
            )
    person, reason = rotation_person(team, at.astimezone(inventory.tz))
    if person is not None:
        for ab in policy.absences:
            if ab.person == person and ab.start <= at < ab.end:
                return OnCall(None, T("{person} is absent ({reason})", person=person, reason=reason))
    return OnCall(person, reason)


def gaps_ahead(
    inventory: Inventory, policy: Policy, now: dt.datetime, horizon: dt.timedelta
) -> dict[str, dt.datetime]:
    """Return, per team, the first moment within the horizon when nobody is on call."""
    moments = {now}
    tz = inventory.tz
    local_now = now.astimezone(tz)
    for day in range(horizon.days + 2):
        date = local_now.date() + dt.timedelta(days=day)
        for team in inventory.teams.values():
            if team.rotation:
                hh, mm = (int(x) for x in team.rotation.handover.split(":"))
                moments.add(dt.datetime.combine(date, dt.time(hh, mm), tzinfo=tz))
    for ov in policy.overrides:
        moments.update((ov.start, ov.end))
    for ab in policy.absences:
        moments.update((ab.start, ab.end))
    end = now + horizon
    checks = sorted(m.astimezone(dt.UTC) for m in moments if now <= m < end)
    found: dict[str, dt.datetime] = {}
    for team_id in inventory.teams:
        for moment in checks:
            if on_call(inventory, policy, team_id, moment).person is None:
                found[team_id] = moment
                break
    return found

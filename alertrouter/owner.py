"""Who owns an incident: the CI's team from the inventory, and who of them is on call now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alertrouter.msg import Ref, T
from alertrouter.policy.oncall import on_call
from alertrouter.policy.schema import Policy
from hospmon.inventory import Inventory


@dataclass(frozen=True)
class Owner:
    """The owning team, the person on call (if any) and why."""

    team: str | None
    person: str | None
    explanation: str


def owner_of(inv: Inventory, policy: Policy, ci: str | None, at: dt.datetime) -> Owner:
    """Find the team and on-call person for an alert on a CI."""
    if ci is not None and ci in inv.cis:
        team = inv.owner_team(ci)
        named = Ref("team", team.id, str(team.name))
        if inv.cis[ci].owner:
            why = T("owner {team} (CI owner)", team=named)
        else:
            service = inv.cis[ci].service
            why = T("owner {team} (service {service})", team=named, service=Ref("service", service, service))
        team_id = team.id
    elif policy.fallback_team:
        team_id = policy.fallback_team
        why = T(
            "owner {team} (policy fallback_team)", team=Ref("team", team_id, str(inv.teams[team_id].name))
        )
    else:
        return Owner(None, None, T("no owner: CI not in the inventory and no fallback_team"))
    duty = on_call(inv, policy, team_id, at)
    if duty.person is None:
        return Owner(team_id, None, T("{owner}; nobody on call: {reason}", owner=why, reason=duty.reason))
    return Owner(
        team_id,
        duty.person,
        T("{owner}; on call {person} ({reason})", owner=why, person=duty.person, reason=duty.reason),
    )

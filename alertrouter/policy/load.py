"""Load the policy and check it against the inventory, every fault with file, entry and key."""

from __future__ import annotations

from pathlib import Path

from alertrouter.policy.calendar import Calendar, check_country, load_calendar
from alertrouter.policy.schema import Policy
from hospmon.config import ConfigError, ConfigFault, load
from hospmon.inventory import Inventory


def load_policy(path: str | Path, inventory: Inventory) -> tuple[Policy, Calendar]:
    """Read the policy file and its calendars; raise one `ConfigError` with every fault."""
    path = Path(path)
    policy = load(Policy, path)
    check_country(policy.calendar, path)
    faults: list[ConfigFault] = []
    people = {m.id: t.id for t in inventory.teams.values() for m in t.members}
    for i, ov in enumerate(policy.overrides):
        if ov.team not in inventory.teams:
            faults.append(ConfigFault(str(path), f"overrides[{i}]", "team", f"unknown team {ov.team!r}"))
        elif ov.person is not None and ov.person not in {m.id for m in inventory.teams[ov.team].members}:
            faults.append(
                ConfigFault(str(path), f"overrides[{i}]", "person", f"{ov.person!r} is not in team {ov.team}")
            )
    for i, ab in enumerate(policy.absences):
        if ab.person not in people:
            faults.append(ConfigFault(str(path), f"absences[{i}]", "person", f"unknown person {ab.person!r}"))
    if policy.fallback_team and policy.fallback_team not in inventory.teams:
        faults.append(ConfigFault(str(path), "", "fallback_team", f"unknown team {policy.fallback_team!r}"))
    if faults:
        raise ConfigError(faults)
    return policy, load_calendar(policy.calendar, path.parent)

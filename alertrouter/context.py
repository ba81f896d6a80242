"""Everything loaded at start-up that the services need: settings, inventory, policy and the assessor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alertrouter.policy.calendar import Calendar
from alertrouter.policy.load import load_policy
from alertrouter.policy.priority import Assessor
from alertrouter.policy.schema import Policy
from alertrouter.settings import Settings, load_settings
from alertrouter.wards.playbooks import Playbook, load_playbooks
from hospmon.inventory import Inventory, load_inventory
from hospmon.inventory.schema import Name
from hospmon.phi import PhiGuard, inventory_staff, inventory_words


@dataclass(frozen=True)
class Router:
    """The router's loaded, checked configuration; immutable while the process runs."""

    settings: Settings
    inventory: Inventory
    policy: Policy
    calendar: Calendar
    assessor: Assessor
    guard: PhiGuard
    """Replaces patient identifiers in alerts with ``[redacted]``; the app points its tally at a counter."""
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    """Downtime playbooks by service."""
    workflow_names: dict[str, Name] = field(default_factory=dict)
    """The services' workflows named in zh and en, for the ward status page."""


def load_router(config_path: str | Path) -> Router:
    """Load the config, the inventory and the policy, raising `ConfigError` on any fault."""
    settings = load_settings(config_path)
    inventory = load_inventory(settings.resolve(settings.file.inventory))
    policy, calendar = load_policy(settings.policy_path(), inventory)
    guard = PhiGuard(
        settings.file.phi, extra_words=inventory_words(inventory), staff=inventory_staff(inventory)
    )
    folder = settings.file.wards.playbooks
    books, names = load_playbooks(settings.resolve(folder) if folder else None, inventory)
    assessor = Assessor(inventory, policy, calendar)
    return Router(settings, inventory, policy, calendar, assessor, guard, books, names)

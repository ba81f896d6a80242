"""Who depends on a CI: its own department, its dependents' departments, and the services it carries.

A department depends on a failing CI along one of three paths, tried nearest first:

- ``own``: the CI's own ``department`` (an ICU floor's access switch serves the ICU);
- ``ci``: the own department of a CI that depends on it, directly or through others (the ED's X-ray unit
  behind the outpatient building's aggregation switch);
- ``service``: every department of a service whose *shared infrastructure* is the CI or depends on it (the
  HIS database servers, and so the SAN and the UPS under them, carry the HIS for every department it serves).

A CI is shared infrastructure of its service when the inventory says ``shared: true``; when it says nothing,
when it names no department or a department its service does not serve (by convention the IT department).
An access switch named after the ward it serves is not shared: the other departments of the network service
do not depend on it.

reaches(inv, "acc-sw-icu-5f")  # [Reach("icu", path=("acc-sw-icu-5f",), service="network", via="own")]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hospmon.inventory.model import Inventory

Via = Literal["own", "ci", "service"]


@dataclass(frozen=True)
class Reach:
    """How a failing CI reaches one department."""

    department: str
    path: tuple[str, ...]
    """From the failing CI to the CI that carries the department (the failing CI alone for its own)."""
    service: str
    """The service of the CI at the end of the path."""
    via: Via

    @property
    def carrier(self) -> str:
        """Return the CI at the end of the path, whose department or service this is."""
        return self.path[-1]


def is_shared(inv: Inventory, ci_id: str) -> bool:
    """Tell whether every department of the CI's service depends on the CI."""
    ci = inv.cis[ci_id]
    if ci.shared is not None:
        return ci.shared
    return ci.department is None or ci.department not in inv.services[ci.service].departments


def reaches(inv: Inventory, ci_id: str) -> list[Reach]:
    """Return the departments depending on a CI, each once, by the nearest path found."""
    found: dict[str, Reach] = {}
    for member, path in {ci_id: (ci_id,), **inv.dependent_paths(ci_id)}.items():
        item = inv.cis[member]
        if item.department and item.department not in found:
            via: Via = "own" if member == ci_id else "ci"
            found[item.department] = Reach(item.department, path, item.service, via)
        if is_shared(inv, member):
            for dept in inv.services[item.service].departments:
                found.setdefault(dept, Reach(dept, path, item.service, "service"))
    return list(found.values())


def shared_infrastructure(inv: Inventory) -> dict[str, list[str]]:
    """Return, per service, the CIs every department of the service depends on."""
    out: dict[str, list[str]] = {}
    for ci in inv.cis.values():
        if inv.services[ci.service].departments and is_shared(inv, ci.id):
            out.setdefault(ci.service, []).append(ci.id)
    return out

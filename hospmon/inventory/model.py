"""Load the inventory from YAML, check it across entries, and answer questions about it.

inv = load_inventory("demo/inventory")      # a file or a folder of *.yml / *.yaml
inv.cis["core-sw-1"].owner_team              # who owns it
inv.dependents("core-sw-1")                  # every CI that stops when it stops
inv.departments_affected("core-sw-1")        # the departments depending on it (hospmon.inventory.impact)
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from hospmon.config import ConfigError, ConfigFault, StrictModel, load_yaml, validate
from hospmon.inventory.schema import (
    ConfigurationItem,
    Department,
    Hospital,
    InventoryFile,
    Name,
    Service,
    Team,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Sourced(Generic[T]):
    """An entry with the file it came from, for error messages."""

    item: T
    file: str


@dataclass
class Inventory:
    """The whole CMDB, checked: every reference resolves and ``depends_on`` has no cycle."""

    hospital: Hospital
    departments: dict[str, Department]
    teams: dict[str, Team]
    services: dict[str, Service]
    cis: dict[str, ConfigurationItem]
    files: list[str] = field(default_factory=list)
    _dependents: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for ci in self.cis.values():
            for dep in ci.depends_on:
                self._dependents.setdefault(dep, []).append(ci.id)

    @property
    def tz(self) -> ZoneInfo:
        """Return the hospital's time zone."""
        return ZoneInfo(self.hospital.timezone)

    def owner_team(self, ci_id: str) -> Team:
        """Return the team owning a CI: its own owner, else its service's team."""
        ci = self.cis[ci_id]
        return self.teams[ci.owner or self.services[ci.service].team]

    def dependents(self, ci_id: str) -> list[str]:
        """Return every CI that depends on `ci_id`, directly or through others, nearest first."""
        seen: set[str] = {ci_id}
        order: list[str] = []
        queue = deque([ci_id])
        while queue:
            for dep in self._dependents.get(queue.popleft(), ()):
                if dep not in seen:
                    seen.add(dep)
                    order.append(dep)
                    queue.append(dep)
        return order

    def dependent_paths(self, ci_id: str) -> dict[str, tuple[str, ...]]:
        """Return every CI depending on `ci_id`, nearest first, with its path from `ci_id` to it.

        One walk for all of them: the same paths, in the same order, as `dependents` and `dependency_path`.
        """
        paths: dict[str, tuple[str, ...]] = {ci_id: (ci_id,)}
        queue = deque([ci_id])
        while queue:
            node = queue.popleft()
            for dep in self._dependents.get(node, ()):
                if dep not in paths:
                    paths[dep] = (*paths[node], dep)
                    queue.append(dep)
        del paths[ci_id]
        return paths

    def dependency_path(self, upstream: str, downstream: str) -> list[str]:
        """Return the CIs from `downstream` back to `upstream` along ``depends_on``, or [] if none."""
        parents: dict[str, str] = {}
        queue = deque([upstream])
        while queue:
            node = queue.popleft()
            if node == downstream:
                path = [node]
                while path[-1] != upstream:
                    path.append(parents[path[-1]])
                return path
            for dep in self._dependents.get(node, ()):
                if dep not in parents and dep != upstream:
                    parents[dep] = node
                    queue.append(dep)
        return []

    def depends_on_transitively(self, ci_id: str) -> list[str]:
        """Return every CI `ci_id` needs, directly or through others, nearest first."""
        seen: set[str] = {ci_id}
        order: list[str] = []
        queue = deque([ci_id])
        while queue:
            for dep in self.cis[queue.popleft()].depends_on:
                if dep not in seen:
                    seen.add(dep)
                    order.append(dep)
                    queue.append(dep)
        return order

    def services_affected(self, ci_id: str) -> list[str]:
        """Return the services of a CI and of every CI depending on it, without repeats."""
        return _unique(self.cis[c].service for c in [ci_id, *self.dependents(ci_id)])

    def departments_affected(self, ci_id: str) -> list[str]:
        """Return the departments that depend on a CI (see `hospmon.inventory.impact`), nearest first."""
        from hospmon.inventory.impact import reaches  # impact builds on this module

        return [r.department for r in reaches(self, ci_id)]

    def department_of(self, ci_id: str) -> str:
        """Return the CI's own department, or its service's first department, or ''."""
        ci = self.cis[ci_id]
        if ci.department:
            return ci.department
        deps = self.services[ci.service].departments
        return deps[0] if deps else ""

    def name_of(self, ci_id: str) -> Name:
        """Return the CI's display name (its id when it has none)."""
        ci = self.cis[ci_id]
        return ci.name or Name(en=ci.id)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
        if not files:
            raise ConfigError.single(path, "folder holds no .yml or .yaml file")
        return files
    if not path.exists():
        raise ConfigError.single(path, "no such file or folder")
    return [path]


def load_inventory(path: str | Path) -> Inventory:
    """Load and check an inventory file or folder, raising one `ConfigError` with every fault."""
    faults: list[ConfigFault] = []
    parts: list[tuple[str, InventoryFile]] = []
    broken: set[tuple[str, str]] = set()
    for file in _files_of(Path(path)):
        try:
            data = load_yaml(file)
        except ConfigError as exc:
            faults.extend(exc.faults)
            continue
        try:
            parts.append((str(file), validate(InventoryFile, data, file)))
        except ConfigError as exc:
            faults.extend(exc.faults)
            part = _salvage(data, broken)
            if part is not None:
                parts.append((str(file), part))
    inventory = _merge(parts, faults)
    if inventory is not None:
        inventory.files = [f for f, _ in parts]
        faults.extend(_check(inventory, _sources(parts), broken))
    if faults:
        raise ConfigError(faults)
    assert inventory is not None
    return inventory


_SECTIONS: dict[str, type[StrictModel]] = {
    "departments": Department,
    "teams": Team,
    "services": Service,
    "cis": ConfigurationItem,
}


def _salvage(data: object, broken: set[tuple[str, str]]) -> InventoryFile | None:
    """Keep the valid entries of a file with faults, so checks across entries still see them.

    The ids of invalid entries are remembered: references to them are not reported a second time.
    """
    if not isinstance(data, dict):
        return None
    kept: dict[str, object] = {}
    if "hospital" in data:
        with contextlib.suppress(ValidationError):
            kept["hospital"] = Hospital.model_validate(data["hospital"])
    for section, model in _SECTIONS.items():
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        good = []
        for entry in entries:
            try:
                good.append(model.model_validate(entry))
            except ValidationError:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    broken.add((section, entry["id"]))
        kept[section] = good
    return InventoryFile.model_construct(**kept)  # type: ignore[arg-type]


def _sources(parts: list[tuple[str, InventoryFile]]) -> dict[tuple[str, str], str]:
    where: dict[tuple[str, str], str] = {}
    for file, part in parts:
        for section in ("departments", "teams", "services", "cis"):
            for entry in getattr(part, section):
                where.setdefault((section, entry.id), file)
    return where


def _merge(parts: list[tuple[str, InventoryFile]], faults: list[ConfigFault]) -> Inventory | None:
    hospital: Sourced[Hospital] | None = None
    tables: dict[str, dict[str, Sourced[object]]] = {
        s: {} for s in ("departments", "teams", "services", "cis")
    }
    for file, part in parts:
        if part.hospital is not None:
            if hospital is not None:
                faults.append(
                    ConfigFault(
                        file, "hospital", "", f"hospital is also defined in {hospital.file}; keep one"
                    )
                )
            else:
                hospital = Sourced(part.hospital, file)
        for section, table in tables.items():
            for entry in getattr(part, section):
                first = table.get(entry.id)
                if first is not None:
                    faults.append(
                        ConfigFault(
                            file,
                            f"{section}[{entry.id}]",
                            "id",
                            f"duplicate id; first defined in {first.file}; rename one",
                        )
                    )
                else:
                    table[entry.id] = Sourced(entry, file)
    if hospital is None:
        if parts:
            faults.append(ConfigFault(parts[0][0], "", "hospital", "no file defines the hospital; add one"))
        return None
    try:
        ZoneInfo(hospital.item.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        faults.append(
            ConfigFault(
                hospital.file, "hospital", "timezone", f"unknown time zone {hospital.item.timezone!r}"
            )
        )
        return None

    def items(section: str) -> dict[str, object]:
        return {k: v.item for k, v in tables[section].items()}

    return Inventory(
        hospital=hospital.item,
        departments=items("departments"),  # type: ignore[arg-type]
        teams=items("teams"),  # type: ignore[arg-type]
        services=items("services"),  # type: ignore[arg-type]
        cis=items("cis"),  # type: ignore[arg-type]
    )


def _check(
    inv: Inventory, where: dict[tuple[str, str], str], broken: set[tuple[str, str]]
) -> Iterator[ConfigFault]:
    def fault(section: str, ident: str, key: str, message: str) -> ConfigFault:
        return ConfigFault(
            where.get((section, ident), inv.files[0] if inv.files else ""),
            f"{section}[{ident}]",
            key,
            message,
        )

    def ref(section: str, ident: str, key: str, value: str, table: dict[str, object], kind: str) -> None:
        if value not in table and (f"{kind}s", value) not in broken:
            out.append(
                fault(section, ident, key, f"unknown {kind} {value!r}; define it under {kind}s or fix it")
            )

    out: list[ConfigFault] = []
    for team in inv.teams.values():
        members = {m.id for m in team.members}
        if team.lead and team.lead not in members:
            out.append(fault("teams", team.id, "lead", f"{team.lead!r} is not a member of this team"))
        if team.rotation:
            for i, person in enumerate(team.rotation.order):
                if person not in members:
                    out.append(fault("teams", team.id, f"rotation.order[{i}]", f"{person!r} is not a member"))
        for i, step in enumerate(team.escalation):
            for j, who in enumerate(step.notify):
                if who not in ("on_call", "team", "lead") and who not in members:
                    out.append(
                        fault(
                            "teams",
                            team.id,
                            f"escalation[{i}].notify[{j}]",
                            f"{who!r} is not a member; use on_call, team, lead or a member id",
                        )
                    )
    for svc in inv.services.values():
        ref("services", svc.id, "team", svc.team, inv.teams, "team")  # type: ignore[arg-type]
        for i, d in enumerate(svc.departments):
            ref("services", svc.id, f"departments[{i}]", d, inv.departments, "department")  # type: ignore[arg-type]
    for ci in inv.cis.values():
        ref("cis", ci.id, "service", ci.service, inv.services, "service")  # type: ignore[arg-type]
        if ci.owner:
            ref("cis", ci.id, "owner", ci.owner, inv.teams, "team")  # type: ignore[arg-type]
        if ci.department:
            ref("cis", ci.id, "department", ci.department, inv.departments, "department")  # type: ignore[arg-type]
        elif ci.shared is False:
            out.append(fault("cis", ci.id, "shared", "not shared and in no department: give its department"))
        service = inv.services.get(ci.service)
        if ci.shared and service is not None and not service.departments:
            out.append(
                fault("cis", ci.id, "shared", f"service {ci.service} lists no departments to share it with")
            )
        for i, dep in enumerate(ci.depends_on):
            if dep == ci.id:
                out.append(fault("cis", ci.id, f"depends_on[{i}]", "a CI cannot depend on itself"))
            else:
                ref("cis", ci.id, f"depends_on[{i}]", dep, inv.cis, "ci")  # type: ignore[arg-type]
        if ci.purchased and ci.warranty_end and ci.warranty_end < ci.purchased:
            out.append(fault("cis", ci.id, "warranty_end", "warranty ends before the purchase date"))
        if ci.monitor and not ci.address and any(m.target is None for m in ci.monitor):
            out.append(
                fault("cis", ci.id, "address", "monitored CI needs an address or a target per monitor")
            )
    out.extend(fault("cis", c[0], "depends_on", "dependency cycle: " + " -> ".join(c)) for c in _cycles(inv))
    yield from out


def _cycles(inv: Inventory) -> list[list[str]]:
    """Find dependency cycles among CIs whose references resolve, one report per cycle."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(inv.cis, white)
    found: list[list[str]] = []
    reported: set[frozenset[str]] = set()

    for start in inv.cis:
        if colour[start] != white:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(inv.cis[start].depends_on))]
        path = [start]
        colour[start] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            if child not in inv.cis or child == node:
                continue
            if colour[child] == grey:
                cycle = [*path[path.index(child) :], child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    found.append(cycle)
            elif colour[child] == white:
                colour[child] = grey
                path.append(child)
                stack.append((child, iter(inv.cis[child].depends_on)))
    return found


def warranty_timestamp(day: dt.date, tz: ZoneInfo) -> float:
    """Return the Unix time at which a warranty ending on `day` runs out: the end of that local day."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return end.timestamp()

"""Downtime playbooks: per service, when the wards switch to paper, whom they call, how they back-enter.

One YAML file per service in the ``wards.playbooks`` folder (``names.yml`` there names the workflows)::

    service: his
    title: {zh: HIS 停机应急预案, en: HIS downtime procedure}
    when: {down_minutes: 10, departments_open: [outpatient, pharmacy-op, billing]}
    do:
      - {zh: 挂号、收费改用纸质单据, en: Register and take payments on paper forms}
    call:
      - {zh: 信息中心值班 8001, en: IT on call, extension 8001}
    back_entry:
      - {zh: 按纸质单据补录挂号、收费和处方, en: Enter the paper registrations, payments and prescriptions}
    contacts:
      - {department: outpatient, name: {zh: 门诊护士长, en: Head nurse}, email: op@hospital.example}

Every fault is reported with its file, entry and key, at start-up, like the rest of the config.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from hospmon.config import ConfigError, ConfigFault, StrictModel, load
from hospmon.inventory import Inventory
from hospmon.inventory.schema import Name


class Condition(StrictModel):
    """When the playbook applies: the service down this long, while one of these departments is open."""

    down_minutes: int = Field(default=10, ge=0, le=24 * 60)
    departments_open: list[str] = []
    """Empty: at any hour."""


class WardContact(StrictModel):
    """Whom a ward's staff hear from: a head nurse, a department office; an address and/or a phone."""

    department: str
    name: Name
    email: str | None = None
    phone: str | None = None

    @model_validator(mode="after")
    def _reachable(self) -> WardContact:
        if not self.email and not self.phone:
            raise ValueError("give an email or a phone")
        return self


class Playbook(StrictModel):
    """What the wards do while a service is down and when it returns."""

    service: str
    title: Name
    when: Condition = Condition()
    do: list[Name] = Field(min_length=1)
    call: list[Name] = []
    back_entry: list[Name] = []
    contacts: list[WardContact] = []


class WorkflowNames(StrictModel):
    """The workflows of the inventory's services, named in both languages for the status page."""

    workflows: dict[str, Name] = {}


def _check(book: Playbook, path: Path, inventory: Inventory) -> list[ConfigFault]:
    faults = []
    if book.service not in inventory.services:
        faults.append(ConfigFault(str(path), "", "service", f"unknown service {book.service!r}"))
    for dept in book.when.departments_open:
        if dept not in inventory.departments:
            faults.append(ConfigFault(str(path), "when", "departments_open", f"unknown department {dept!r}"))
    for i, contact in enumerate(book.contacts):
        if contact.department not in inventory.departments:
            what = f"unknown department {contact.department!r}"
            faults.append(ConfigFault(str(path), f"contacts[{i}]", "department", what))
    return faults


def load_playbooks(folder: Path | None, inventory: Inventory) -> tuple[dict[str, Playbook], dict[str, Name]]:
    """Load every playbook (by service) and the workflow names; raise one `ConfigError` with every fault."""
    if folder is None:
        return {}, {}
    if not folder.is_dir():
        raise ConfigError.single(folder, "no such folder; give wards.playbooks as a folder of YAML files")
    books: dict[str, Playbook] = {}
    names: dict[str, Name] = {}
    faults: list[ConfigFault] = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            if path.stem == "names":
                names = load(WorkflowNames, path).workflows
                continue
            book = load(Playbook, path)
        except ConfigError as exc:
            faults.extend(exc.faults)
            continue
        faults.extend(_check(book, path, inventory))
        if book.service in books:
            faults.append(ConfigFault(str(path), "", "service", f"a second playbook for {book.service}"))
        books[book.service] = book
    if faults:
        raise ConfigError(faults)
    return books, names

"""The shape of a scenario file: a shift report with the alerts, the people's actions and what must happen.

Times are local hospital time (Asia/Shanghai): "2026-10-20 03:00", or "03:15" for the date of the step it is
written in (the scenario's start date in the final ``expect``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hospmon.config import StrictModel


class AlertRef(StrictModel):
    """One alert as the shipped rules raise it: its name, its CI and the labels the rule keeps."""

    alertname: str
    ci: str | None = None
    labels: dict[str, str] = {}
    """Labels beyond those the target and the rule give (an interface name, a probe module)."""
    external: bool = False
    """Not one of rules/*.yml (e.g. a backup appliance's own alerting); then give the severity."""
    severity: str | None = None
    since: str | None = None
    """When the alert started, if not at the step that fires it (a re-send of an old alert, or the copy of an
    HA pair's other Prometheus, which fired it seconds apart); in a resolve, only the copy of that start."""
    only_alertmanager: int | None = Field(default=None, ge=0, le=1)
    """Post this copy to one Alertmanager of the pair only (0 or 1): the other's copy is late or lost."""


class Person(StrictModel):
    """Someone acting on the incident of a CI (and alert name, when the CI has several)."""

    ci: str
    alertname: str | None = None
    by: str
    note: str = ""


class ChangeWindow(StrictModel):
    """A planned change recorded in the router; its silence is set in Alertmanager for the window."""

    title: str
    cis: list[str] = Field(min_length=1)
    until: str
    by: str


class Paged(StrictModel):
    """Someone who must get a message on a channel, by a time, about a CI."""

    who: str
    via: Literal["sms", "email"]
    by: str | None = None
    not_before: str | None = None
    """Count only messages from this time on (say who must not be paged before it with ``not_paged``)."""
    about: str | None = None
    """A CI the message names in its subject."""
    times: int | None = None
    """Exactly this many messages (on this channel, about this CI, from `not_before`, if given)."""
    saying: list[str] = []
    """Phrases the first such message's subject must contain: why the person is woken."""


class NotPaged(StrictModel):
    """Someone who must get nothing (on a channel, about a CI, before a time)."""

    who: str
    via: Literal["sms", "email"] | None = None
    about: str | None = None
    before: str | None = None


class IncidentExpect(StrictModel):
    """What one incident, found by its CI (and alert name), must look like."""

    ci: str
    alertname: str | None = None
    priority: str | None = None
    status: str | None = None
    team: str | None = None
    assignee: str | None = None
    explanation: list[str] = []
    """Phrases the priority explanation must contain."""
    explanation_not: list[str] = []
    owner: list[str] = []
    """Phrases the owner explanation must contain."""
    departments: list[str] | None = None
    """The affected departments, most critical first, exactly."""
    grouped_under: str | None = None
    """The CI whose incident this one is grouped under; "" for an incident grouped under nothing."""
    alerts: int | None = None
    started: str | None = None
    """When its earliest alert started, as the router stores it ("03:00:00": a time on the day)."""
    timeline: list[str] = []
    """Phrases that must each appear in some timeline entry."""


class WardsExpect(StrictModel):
    """What the ward status page (``/status``) shows, by service."""

    playbooks: list[str] = []
    """Services whose downtime playbook it shows in force."""
    no_playbook: list[str] = []
    back_entry: list[str] = []
    """Services it shows back, with their back-entry steps."""
    down: list[str] = []
    """Services whose workflows it shows down."""
    working: list[str] = []


class Expect(StrictModel):
    """The outcome at a moment: incidents, who was paged, who was not, what Alertmanager silenced."""

    incidents: list[IncidentExpect] = []
    incident_count: int | None = None
    no_incident_on: list[str] = []
    """CIs that must have no incident at all."""
    paged: list[Paged] = []
    not_paged: list[str | NotPaged] = []
    nobody_paged: bool = False
    silenced: list[AlertRef] = []
    """Alerts Alertmanager holds back (suppressed by a silence)."""
    wards: WardsExpect | None = None
    """The ward status page; ward contacts are checked with `paged`, by their address or phone."""


class Step(StrictModel):
    """What happens at one moment; the router's worker runs after it."""

    at: str
    note: str = ""
    fire: list[AlertRef] = []
    resolve: list[AlertRef] = []
    acknowledge: Person | None = None
    resolve_incident: Person | None = None
    change: ChangeWindow | None = None
    """A change recorded in the router, silenced in Alertmanager for its window."""
    silence: ChangeWindow | None = None
    """A silence set in Alertmanager by hand, unknown to the router."""
    sms_gateway: Literal["down", "up"] | None = None
    """The SMS gateway refuses messages (503) from now, or takes them again."""
    lose_deliveries: int = 0
    """The next deliveries of this scenario are lost on the way (a proxy answered 200 and dropped them)."""
    alertmanager_resends: bool = False
    """Wait until Alertmanager has sent the still-firing alerts again (its repeat interval)."""
    channels_refuse: int = 0
    """The next sends fail ("451 try again later" from the mail relay or the SMS gateway), to be retried."""
    crash_after_send: int = 0
    """The router dies right after a channel took the next message, before recording the send; it restarts."""
    expect: Expect | None = None


class AlertmanagerSetup(StrictModel):
    """How the scenario's Alertmanager differs from the shipped one."""

    pair: bool = False
    """Two Alertmanagers (an HA pair that cannot gossip) both get every alert and both deliver."""
    max_alerts: int = 0
    """The webhook's max_alerts; the router fetches what a delivery left out."""


class ExpectedFailure(StrictModel):
    """A scenario that fails until a known bug of issue 13 is fixed."""

    bug: int
    reason: str


class Scenario(StrictModel):
    """One scenario file."""

    title: str
    story: str
    start: str
    xfail: ExpectedFailure | None = None
    alertmanager: AlertmanagerSetup = AlertmanagerSetup()
    policy: dict[str, Any] = {}
    """Keys replacing the shipped policy's (overrides, absences, ...)."""
    wards: bool = False
    """Run the shipped downtime playbooks (rules/wards/): the ward status page and the ward contacts."""
    steps: list[Step] = Field(min_length=1)
    expect: Expect = Expect()

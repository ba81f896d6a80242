"""Compare what the router did with what a scenario expects; say what differs the way a shift report would."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.scenarios import chain as am
from tests.scenarios.alerts import labels_of
from tests.scenarios.model import Expect, IncidentExpect, NotPaged, Paged, WardsExpect
from tests.scenarios.runner import ScenarioRun
from tests.scenarios.setup import TZ, Page, local_time


def _hm(when: dt.datetime) -> str:
    local = when.astimezone(TZ)
    return f"{local:%a %Y-%m-%d %H:%M}" + (f":{local:%S}" if local.second else "")


def report(run: ScenarioRun, incidents: list[dict[str, Any]]) -> str:
    """Describe the incidents and the pages, for a failure message."""
    lines = ["incidents:"]
    for i in sorted(incidents, key=lambda x: x["id"]):
        lines.append(
            f"  #{i['id']} {i['alertname']} on {i['ci']}: {i['priority']} {i['status']} team={i['team']} "
            f"assignee={i['assignee']} parent={i['parent_id']} departments={i['departments']}"
        )
        lines.append(f"      {i['explanation']}")
    lines.append("pages:")
    lines.extend(f"  {_hm(p.at)} {p.via:5} {p.who}: {p.subject}" for p in run.pages)
    return "\n".join(lines)


def check(run: ScenarioRun, expect: Expect, day: dt.date) -> None:
    """Raise an AssertionError listing every way the outcome differs from `expect`."""
    incidents = run.api("/api/v1/incidents?limit=500")["incidents"]
    faults: list[str] = []
    if expect.incident_count is not None and len(incidents) != expect.incident_count:
        faults.append(f"{len(incidents)} incidents, expected {expect.incident_count}")
    by_id = {i["id"]: i for i in incidents}
    for ci in expect.no_incident_on:
        if any(i["ci"] == ci for i in incidents):
            faults.append(f"{ci} must have no incident")
    for want in expect.incidents:
        faults.extend(_incident(run, want, incidents, by_id, day))
    for paged in expect.paged:
        faults.extend(_paged(run.pages, paged, day))
    for entry in expect.not_paged:
        nope = entry if isinstance(entry, NotPaged) else NotPaged(who=entry)
        faults.extend(_not_paged(run.pages, nope, day))
    if expect.wards:
        faults.extend(_wards(run, expect.wards))
    if expect.nobody_paged and run.pages:
        faults.append(f"expected nobody paged; {len(run.pages)} messages went out")
    for ref in expect.silenced:
        labels = labels_of(ref, run.inv, run.name)
        states = am.alert_states(run.managers[0], run.name)
        match = [s for s in states if all(s["labels"].get(k) == v for k, v in labels.items())]
        if not match or any(not s["status"]["silencedBy"] for s in match):
            faults.append(f"{ref.alertname} on {ref.ci} is not silenced in Alertmanager: {match}")
    if faults:
        raise AssertionError(
            f"at {_hm(run.clock.at)}:\n- " + "\n- ".join(faults) + "\n" + report(run, incidents)
        )


def _incident(
    run: ScenarioRun,
    want: IncidentExpect,
    incidents: list[dict[str, Any]],
    by_id: dict[int, Any],
    day: dt.date,
) -> list[str]:
    what = f"incident on {want.ci}" + (f" ({want.alertname})" if want.alertname else "")
    found = [i for i in incidents if i["ci"] == want.ci and want.alertname in (None, i["alertname"])]
    if len(found) != 1:
        return [f"{what}: {len(found)} found, expected one"]
    inc = found[0]
    faults = []
    for key in ("priority", "status", "team", "assignee"):
        value = getattr(want, key)
        if value is not None and inc[key] != value:
            faults.append(f"{what}: {key} {inc[key]}, expected {value}")
    faults += [f"{what}: explanation lacks {p!r}" for p in want.explanation if p not in inc["explanation"]]
    faults += [f"{what}: explanation has {p!r}" for p in want.explanation_not if p in inc["explanation"]]
    faults += [
        f"{what}: owner explanation lacks {p!r}" for p in want.owner if p not in inc["owner_explanation"]
    ]
    if want.departments is not None and inc["departments"] != want.departments:
        faults.append(f"{what}: departments {inc['departments']}, expected {want.departments}")
    if want.grouped_under is not None:
        parent = by_id.get(inc["parent_id"]) if inc["parent_id"] else None
        under = parent["ci"] if parent else ""
        if under != want.grouped_under:
            faults.append(
                f"{what}: grouped under {under or 'nothing'}, expected {want.grouped_under or 'nothing'}"
            )
    if want.alerts is not None or want.timeline or want.started:
        detail = run.api(f"/api/v1/incidents/{inc['id']}")
        if want.alerts is not None and len(detail["alerts"]) != want.alerts:
            faults.append(f"{what}: {len(detail['alerts'])} alerts, expected {want.alerts}")
        starts = [dt.datetime.fromisoformat(a["starts_at"]) for a in detail["alerts"]]
        if want.started and (not starts or min(starts) != local_time(want.started, day)):
            faults.append(
                f"{what}: started {', '.join(_hm(s) for s in sorted(starts))}, expected {want.started}"
            )
        texts = [f"{e['kind']}: {e['text']}" for e in detail["timeline"]]
        for phrase in want.timeline:
            if not any(phrase in t for t in texts):
                faults.append(
                    f"{what}: no timeline entry with {phrase!r}; timeline:\n    " + "\n    ".join(texts)
                )
    return faults


def _matching(pages: list[Page], who: str, via: str | None, about: str | None) -> list[Page]:
    return [
        p
        for p in pages
        if p.who == who and via in (None, p.via) and (about is None or f" on {about}" in p.subject)
    ]


def _paged(pages: list[Page], want: Paged, day: dt.date) -> list[str]:
    what = f"{want.who} via {want.via}" + (f" about {want.about}" if want.about else "")
    got = _matching(pages, want.who, want.via, want.about)
    if want.not_before:
        what += f" from {want.not_before}"
        got = [p for p in got if p.at >= local_time(want.not_before, day)]
    if not got:
        return [f"{what}: never paged"]
    if want.by and min(p.at for p in got) > local_time(want.by, day):
        return [f"{what}: first paged at {_hm(min(p.at for p in got))}, expected by {want.by}"]
    if want.times is not None and len(got) != want.times:
        return [f"{what}: paged {len(got)} times, expected {want.times}"]
    first = min(got, key=lambda p: p.at)
    return [f"{what}: {first.subject!r} lacks {p!r}" for p in want.saying if p not in first.subject]


def _not_paged(pages: list[Page], nope: NotPaged, day: dt.date) -> list[str]:
    got = _matching(pages, nope.who, nope.via, nope.about)
    if nope.before:
        got = [p for p in got if p.at < local_time(nope.before, day)]
    if got:
        first = got[0]
        what = f"{nope.who} must not be paged" + (f" via {nope.via}" if nope.via else "")
        what += f" about {nope.about}" if nope.about else ""
        return [f"{what}: {first.via} at {_hm(first.at)}: {first.subject}"]
    return []


def _wards(run: ScenarioRun, want: WardsExpect) -> list[str]:
    """Compare the ward status page, as a ward PC on the hospital network reads it, with what is expected."""
    page = run.client.get("/status?lang=en").text
    faults = [
        f"the status page lacks the {s} playbook" for s in want.playbooks if f'id="playbook-{s}"' not in page
    ]
    faults += [
        f"the status page shows the {s} playbook" for s in want.no_playbook if f'id="playbook-{s}"' in page
    ]
    faults += [
        f"the status page lacks {s}'s back-entry" for s in want.back_entry if f'id="back-{s}"' not in page
    ]
    rows = re.findall(r'<tr class="(\w+)" data-service="([\w-]+)"', page)
    states: dict[str, set[str]] = {}
    for state, service in rows:
        states.setdefault(service, set()).add(state)
    for wanted, services in (("down", want.down), ("working", want.working)):
        faults += [
            f"{s} shows {sorted(states.get(s, ()))}, not {wanted}"
            for s in services
            if states.get(s) != {wanted}
        ]
    return faults

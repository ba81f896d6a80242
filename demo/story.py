"""The demo's scripted morning: a few minutes in, the clinics open and things go wrong, as they do.

Each step happens a set time after the clinics open and becomes one incident in the router, whose console
shows its priority, owner and the explanation of both:

- the clinics open: the demo's copy of the inventory opens the outpatient departments a few minutes after
  the demo starts (whatever the hour), so the router ranks their failures as it would at 08:00;
- the outpatient floor 2 access switch, out of warranty since 2021, stops answering: ``CIProbeFailed``, P2
  for the network team (the open outpatient clinics depend on it; the ED does not, and outranks it);
- the HIS database fails: unreachable for three minutes until its standby takes over the address:
  ``DatabaseDown`` and the HIS checks that depend on it, one P1 incident for the applications team;
- an ED radiograph sticks in the DR's send queue and never reaches the archive: ``DicomStudiesNotRouted``
  after the rule's 10 minutes, P2 for the medical-technology team (the ED depends on the DR);
- the LIS results interface on the interface engine is stopped: ``IntegrationChannelStopped`` after 5
  minutes in clinic hours (critical), 15 outside them, for the applications team (the ED waits for results);
- the machine-room UPS goes on battery for three minutes (SNMP traps to the event receiver), then a port of
  the inpatient aggregation switch flaps twenty times (syslog): one incident each, not one per message.

The pace (``HOSPMON_DEMO_STORY_PACE``, 1 by default) shrinks the waits between steps for the demo test; the
rules' own ``for:`` durations stay as shipped.
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from demo import ports

PACE_ENV = "HOSPMON_DEMO_STORY_PACE"
ZONE = ZoneInfo("Asia/Shanghai")
# Seconds from the demo's start until the clinics open: time for every part to start first.
OPENING_LEAD = 240.0
HIS_OUTAGE_SECONDS = 180.0  # longer than DatabaseDown's `for: 2m`: the outage must page
SWITCH = "acc-sw-op-2f"
ENGINE, RESULTS_CHANNEL = "esb-engine", "lis-results-to-his"


def pace() -> float:
    """Return the story's pace: 1 plays the morning in real time, 0.25 four times faster."""
    text = os.environ.get(PACE_ENV, "1")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise ValueError(f"{PACE_ENV}={text!r}: give a number above 0 and at most 1")
    return value


def open_clinics_now(inventory: Path, opening: dt.datetime) -> str:
    """Give every department with opening hours (clinics, pharmacy, billing) hours from `opening` on.

    Rewrites the run folder's copy of the inventory; returns the period written, in Asia/Shanghai time.
    """
    local = opening.astimezone(ZONE)
    start = local.strftime("%H:%M")
    close = (local + dt.timedelta(hours=4)).strftime("%H:%M")
    periods = [f"{start}-{close}"] if close > start else [f"{start}-23:59", f"00:00-{close}"]
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for path in sorted(inventory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        departments = [d for d in data.get("departments", []) if d.get("hours")]
        if not departments:
            continue
        for department in departments:
            department["hours"] = [{"days": days, "periods": periods}]
        header = (
            f"# Written by hospmon demo: the clinics open at {start} (Asia/Shanghai), the scripted morning.\n"
        )
        path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return ", ".join(periods)


def _post(url: str) -> str:
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - the demo's own URLs
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - the demo's own systems
            return str(resp.read().decode().strip())
    except (urllib.error.URLError, OSError) as exc:
        return f"failed: {exc}"


@dataclass
class Step:
    """One event of the morning: when, what happens, what it should become, and the action."""

    after: float
    """Seconds after the clinics open, at pace 1 (shrunk by the pace)."""
    what: str
    expect: str
    act: Callable[[Stage], str]
    lasting: float = 0.0
    """Seconds added unshrunk: how long an outage lasts, which the rules' `for:` durations measure."""


@dataclass
class Stage:
    """What the steps act on: the parts the launcher started (by name), and the demo's systems' URLs."""

    stop_part: Callable[[str], None]
    done: list[str] = field(default_factory=list)


def _switch_fails(stage: Stage) -> str:
    stage.stop_part(f"snmpd-{SWITCH}")
    return f"snmpd of {SWITCH} stopped"


def _his_database_fails(stage: Stage) -> str:
    return _post(ports.url(18081, "/-/demo/database/stop"))


def _his_standby_takes_over(stage: Stage) -> str:
    return _post(ports.url(18081, "/-/demo/database/start"))


def _radiograph_not_routed(stage: Stage) -> str:
    return _post(ports.url(18044, "/-/demo/unrouted-radiograph"))


def _results_interface_stops(stage: Stage) -> str:
    return _post(ports.url(18090, f"/-/demo/channels/{RESULTS_CHANNEL}/stop"))


def _ups_on_battery(stage: Stage) -> str:
    return _post(ports.url(19164, "/-/demo/ups-on-battery"))


def _link_flaps(stage: Stage) -> str:
    return _post(ports.url(19164, "/-/demo/link-flap"))


def morning() -> list[Step]:
    """Return the scripted morning, in order."""
    return [
        Step(0, "The clinics open (门诊开诊): registration, pharmacy and billing take patients.",
             "nothing pages: every system runs", lambda _stage: "clinics open"),
        # The interface engine (demo/parts/integration.py); Prometheus's clinic hours are the real clock's.
        Step(20, f"The LIS results interface ({RESULTS_CHANNEL}) on the interface engine {ENGINE} stops.",
             "IntegrationChannelStopped after 5 minutes in clinic hours (critical), 15 outside them: one "
             "incident for the apps team (the ED waits for its results)", _results_interface_stops),
        Step(60, f"The outpatient floor 2 access switch ({SWITCH}, out of warranty) stops answering.",
             "CIProbeFailed in about 2 minutes: P2 for the network team (open clinics; below the ED)",
             _switch_fails),
        # Events from SNMP traps and syslog (demo/parts/events.py): the event receiver makes them alerts.
        Step(90, "The machine-room UPS ups-mr1-01 loses mains: on battery for three minutes (SNMP traps).",
             "UPSOnBattery from the traps: one incident for the infra team, resolved when mains is back",
             _ups_on_battery),
        Step(120, "The HIS database primary fails; its standby takes over the address in 3 minutes.",
             "DatabaseDown on his-db with the HIS checks depending on it: one P1 incident for the apps team",
             _his_database_fails),
        Step(150, "An ED radiograph (dr-ed-1) sticks in the DR's send queue; it never reaches the archive.",
             "DicomStudiesNotRouted after the rule's 10 minutes: P2 for the medtech team (the ED needs it)",
             _radiograph_not_routed),
        Step(200, "A port of the inpatient aggregation switch flaps twenty times in 20 seconds (syslog).",
             "one NetworkLinkDown alert, one incident for the network team: not twenty", _link_flaps),
        Step(120, "The HIS database answers again at its address (the standby).",
             "the HIS incident resolves itself once its alerts clear", _his_standby_takes_over,
             lasting=HIS_OUTAGE_SECONDS),
    ]  # fmt: skip


class Story:
    """Plays the morning's steps when they are due; the launcher calls `tick` about once a second."""

    def __init__(self, opening: dt.datetime, stage: Stage, steps: list[Step] | None = None) -> None:
        self.opening = opening
        self.stage = stage
        self.pending = sorted(steps if steps is not None else morning(), key=self.due_at)

    def due_at(self, step: Step) -> dt.datetime:
        """Return the wall-clock time a step is due (its wait shrunk by the pace, outages lasting as long)."""
        return self.opening + dt.timedelta(seconds=step.after * pace() + step.lasting)

    def tick(self, now: dt.datetime, say: Callable[[str], Any] = print) -> None:
        """Run every step that is due, printing what happens and what it should become."""
        while self.pending and self.due_at(self.pending[0]) <= now:
            step = self.pending.pop(0)
            clock = now.astimezone(ZONE).strftime("%H:%M:%S")
            result = step.act(self.stage)
            say(f"  [{clock}] {step.what}\n             -> {step.expect} ({result})")
            self.stage.done.append(step.what)

"""The incident board and the incident page with its actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Response, current_app, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter import incidents as svc
from alertrouter.actions import SNOOZE_MINUTES
from alertrouter.console import changes, incident_actions, kb, problems
from alertrouter.console.models import Cause, Resolution, Role
from alertrouter.console.resolutions import ProblemRule, earlier, resolve_with_cause
from alertrouter.console.web import (
    _,
    audit,
    bp,
    needs,
    refuse_patient_text,
    see_other,
    viewer,
)
from alertrouter.errors import ApiError
from alertrouter.models import OPEN, Incident
from alertrouter.settings import PRIORITIES
from alertrouter.state import current_state, writing
from alertrouter.wards.impact import patient_impact
from alertrouter.wards.runs import runs
from alertrouter.wards.status import reached_services

FREE_TEXT = {"note": ("text",), "resolve": ("fix",), "reopen": ("why",)}
"""The fields a person types freely, by incident action: the PHI guard reads them before anything is kept."""
STATUS_CHOICES = {"open": list(OPEN), "resolved": ["resolved"], "closed": ["closed"], "all": None}


def _filter() -> svc.IncidentFilter:
    args = request.args
    status = STATUS_CHOICES.get(args.get("status", "open"), list(OPEN))
    prio = [p for p in args.getlist("priority") if p in PRIORITIES]
    inv = current_state().router.inventory

    def known(key: str, table: Mapping[str, object]) -> str | None:
        value = args.get(key) or None
        return value if value in table else None

    return svc.IncidentFilter(
        status=status,
        priority=prio or None,
        team=known("team", inv.teams),
        service=known("service", inv.services),
        department=known("department", inv.departments),
        limit=300,
    )


@bp.get("/")
def board() -> str:
    """Show the incident board with its filters; the rows refresh themselves."""
    with current_state().sessions() as session:
        rows = svc.list_incidents(_filter(), session=session)
        return render_template(
            "console/board.html",
            incidents=rows,
            during=changes.during_changes(rows, session=session),
            priorities=PRIORITIES,
            args=request.args,
            refresh_seconds=float(current_app.config.get("CONSOLE_REFRESH_SECONDS", 15)),
        )


@bp.get("/board/rows")
def board_rows() -> str:
    """Return only the board's rows, for the refresh."""
    with current_state().sessions() as session:
        rows = svc.list_incidents(_filter(), session=session)
        during = changes.during_changes(rows, session=session)
        return render_template("console/board_rows.html", incidents=rows, during=during)


@bp.get("/incidents/<int:incident_id>")
def incident(incident_id: int) -> str:
    """Show one incident: explanation, timeline, alerts, earlier occurrences, articles, actions."""
    state = current_state()
    with state.sessions() as session:
        inc = svc.get_incident_or_raise(incident_id, session=session)
        team = state.router.inventory.teams.get(inc.team or "")
        people = sorted(
            {m.id for t in state.router.inventory.teams.values() for m in t.members},
            key=lambda p: (team is None or p not in {m.id for m in team.members}, p),
        )
        return render_template(
            "console/incident.html",
            inc=inc,
            timeline=svc.timeline_of(incident_id, session=session),
            alerts=svc.alerts_of(incident_id, session=session),
            children=svc.children_of(incident_id, session=session),
            history=earlier(inc, session=session),
            articles=kb.suggest(inc, session=session),
            own_articles=kb.made_from(incident_id, session=session),
            resolution=session.get(Resolution, incident_id),
            problem=problems.problem_of(incident_id, session=session),
            during=changes.change_during(inc.ci, inc.created_at, session=session),
            people=people,
            causes=list(Cause),
            open=inc.status in OPEN,
            snooze_minutes=SNOOZE_MINUTES,
            **_wards(inc, session=session),
        )


def _wards(inc: Incident, *, session: Session) -> dict[str, object]:
    """Return what the incident means for the wards: patients affected and the playbook it set off."""
    router = current_state().router
    reached = reached_services(router, inc)
    impact = patient_impact(router, [d.department for d in inc.departments], reached)
    since = current_state().now() - dt.timedelta(hours=router.settings.file.wards.recovered_hours)
    found = [
        (r, router.playbooks[r.service])
        for r in runs(session=session, since=since)
        if r.service in router.playbooks
        and (r.incident_id == inc.id or (r.ended_at is None and r.service in reached))
    ]
    return {"impact": impact, "playbooks": found}


def problem_rule() -> ProblemRule:
    """Return the problem threshold from the app config (CONSOLE_PROBLEM_TIMES, CONSOLE_PROBLEM_DAYS)."""
    cfg = current_app.config
    return ProblemRule(int(cfg.get("CONSOLE_PROBLEM_TIMES", 3)), int(cfg.get("CONSOLE_PROBLEM_DAYS", 30)))


@bp.post("/incidents/<int:incident_id>/<action>")
@needs(Role.engineer)
def act(incident_id: int, action: str) -> HttpResponse | Response:
    """Acknowledge, assign, add a note, resolve, snooze, reopen, reassign, merge or split; audit each."""
    state = current_state()
    now, by, form = state.now(), viewer().username, request.form
    refused = refuse_patient_text(FREE_TEXT.get(action, ()), lambda: incident(incident_id))
    if refused is not None:
        return refused
    # A refusal raises inside the transaction: it rolls back, and the console's error page says why.
    with writing() as session:
        if action == "acknowledge":
            svc.acknowledge(incident_id, session=session, by=by, now=now)
            audit(session, "acknowledge", f"incident {incident_id}")
        elif action == "assign":
            to = form.get("to", "")
            people = {m.id for t in state.router.inventory.teams.values() for m in t.members}
            if to not in people:
                raise ApiError(400, f"{_('Assign to')}: {to}")
            svc.assign(incident_id, session=session, to=to, by=by, now=now)
            audit(session, "assign", f"incident {incident_id}", to=to)
        elif action == "note":
            text = form.get("text", "").strip()[:10_000]
            if not text:
                raise ApiError(400, _("Note"))
            svc.add_note(incident_id, session=session, by=by, text=text, now=now)
            audit(session, "note", f"incident {incident_id}")
        elif action == "resolve":
            cause = form.get("cause", "")
            minutes = form.get("minutes", "0").strip() or "0"
            fix = form.get("fix", "").strip()[:10_000]
            if cause not in Cause.__members__ or not minutes.isdigit() or not fix:
                raise ApiError(400, f"{_('Root cause')}, {_('What fixed it')}, {_('Time spent')}")
            resolve_with_cause(
                incident_id,
                session=session,
                by=by,
                cause=Cause(cause),
                fix=fix,
                minutes=min(int(minutes), 100_000),
                to_kb=form.get("to_kb") == "1",
                now=now,
                rule=problem_rule(),
            )
            audit(session, "resolve", f"incident {incident_id}", cause=cause, minutes=int(minutes))
        elif action in incident_actions.NAMES:
            detail = incident_actions.perform(
                state.router, action, incident_id, form, session=session, by=by, now=now
            )
            audit(session, action, f"incident {incident_id}", **detail)
            if action == "split" and detail["alert_id"] is not None:
                return see_other(".incident", incident_id=detail["incident"])
        else:
            raise ApiError(404, _("Not found."))
    return see_other(".incident", incident_id=incident_id)

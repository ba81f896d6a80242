"""Problems, and changes with their Alertmanager silences."""

from __future__ import annotations

import datetime as dt

import requests
from flask import Response, render_template, request
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.alertmanager import Alertmanager
from alertrouter.console import changes, problems, releases
from alertrouter.console.models import Role
from alertrouter.console.web import (
    _,
    audit,
    bp,
    error_page,
    needs,
    refuse_patient_text,
    see_other,
    viewer,
)
from alertrouter.state import current_state, writing


def alertmanager() -> Alertmanager | None:
    """Return the Alertmanager client from the router config, if it names one."""
    return Alertmanager.from_settings(current_state().router.settings)


@bp.get("/problems")
def problems_page() -> str:
    """List problems."""
    with current_state().sessions() as session:
        return render_template("console/problems.html", problems=problems.list_problems(session=session))


@bp.post("/problems/scan")
@needs(Role.engineer)
def problems_scan() -> HttpResponse:
    """Look for recurring incidents now."""
    from alertrouter.console.views_incidents import problem_rule

    rule = problem_rule()
    with writing() as session:
        found = problems.scan(session=session, now=current_state().now(), times=rule.times, days=rule.days)
        audit(session, "problems_scanned", detail_count=len(found))
    return see_other(".problems_page")


@bp.route("/problems/<int:problem_id>", methods=["GET", "POST"])
def problem_page(problem_id: int) -> HttpResponse | Response | str:
    """Show a problem and its incidents; engineers set its status and root cause."""
    if request.method == "POST":
        if not viewer().can(Role.engineer):
            return error_page(403, _("You may not do this."))
        status = request.form.get("status", "")
        if status not in problems.STATUSES:
            return error_page(400, _("Status"))
        refused = refuse_patient_text(("root_cause",), lambda: _problem(problem_id))
        if refused is not None:
            return refused
        with writing() as session:
            problem = problems.get_problem_or_raise(problem_id, session=session)
            problem.status = status
            problem.root_cause = request.form.get("root_cause", "").strip()[:10_000]
            audit(session, "problem_updated", f"problem {problem_id}", status=status)
        return see_other(".problem_page", problem_id=problem_id)
    return _problem(problem_id)


def _problem(problem_id: int) -> str:
    with current_state().sessions() as session:
        return render_template(
            "console/problem.html",
            p=problems.get_problem_or_raise(problem_id, session=session),
            incidents=problems.incidents_of(problem_id, session=session),
            statuses=problems.STATUSES,
        )


def _sync_changes() -> str:
    """Bring the silences up to date; return an error to show, if Alertmanager did not answer."""
    state = current_state()
    try:
        with writing() as session:
            changes.sync(session=session, am=alertmanager(), now=state.now())
    except requests.RequestException as exc:
        return f"Alertmanager: {exc}"
    return ""


@bp.get("/changes")
def changes_page() -> str:
    """List changes (keeping their silences in step) and offer the form for a new one."""
    error = _sync_changes()
    with current_state().sessions() as session:
        listed = changes.list_changes(session=session)
        return render_template(
            "console/changes.html",
            changes=listed,
            observed=releases.observations([c.id for c in listed if c.kind == "release"], session=session),
            error=error,
            recurrences=list(changes.RECURRENCES),
            kinds=changes.KINDS,
            window_at=changes.window_at,
            now=current_state().now(),
        )


def _local(value: str) -> dt.datetime:
    tz = current_state().router.inventory.tz
    return dt.datetime.fromisoformat(value).replace(tzinfo=tz).astimezone(dt.UTC)


def _release(form: dict[str, str], cis: list[str]) -> changes.Release | None:
    """Return the release fields of the form, or None for another kind of change."""
    if form.get("kind", "change") == "change":
        return None
    if form.get("kind") != "release":
        raise ValueError(f"{_('Type')}: {', '.join(changes.KINDS)}")
    inventory = current_state().router.inventory
    system = form.get("system", "").strip() or cis[0]
    if system not in inventory.cis and system not in inventory.services:
        raise ValueError(f"{_('System')}: {system}")
    return changes.Release(system, form.get("version_from", ""), form.get("version_to", ""))


@bp.post("/changes")
@needs(Role.engineer)
def changes_create() -> HttpResponse | Response:
    """Record a change (or a release) and silence its CIs for its window."""
    form, state = request.form, current_state()
    refused = refuse_patient_text(("title", "description", "version_from", "version_to"), changes_page)
    if refused is not None:
        return refused
    cis = [c.strip() for c in form.get("cis", "").split(",") if c.strip()]
    unknown = [c for c in cis if c not in state.router.inventory.cis]
    try:
        if not cis or unknown:
            raise ValueError(f"{_('Configuration item')}: {', '.join(unknown) or '-'}")
        starts, ends = _local(form.get("starts", "")), _local(form.get("ends", ""))
        until = _local(form["until"]) if form.get("until") else None
        release = _release(dict(form), cis)
        with writing() as session:
            change = changes.create_change(
                form.get("title", "").strip() or "-",
                session=session,
                cis=cis,
                starts=starts,
                ends=ends,
                recurrence=form.get("recurrence", "none"),
                until=until,
                description=form.get("description", "").strip()[:10_000],
                author=viewer().username,
                now=state.now(),
                release=release,
            )
            linked = releases.link_open(
                change, session=session, inventory=state.router.inventory, actor=viewer().username,
                now=state.now(),
            )  # fmt: skip
            audit(session, "change_created", f"change {change.id}", cis=cis, kind=change.kind, linked=linked)
    except ValueError as exc:  # a service's reason is a msgid (changes.py); any other stays as it is
        return error_page(400, _(str(exc)))
    error = _sync_changes()
    if error:
        return error_page(502, error)
    return see_other(".changes_page")


@bp.post("/changes/<int:change_id>/cancel")
@needs(Role.engineer)
def changes_cancel(change_id: int) -> HttpResponse:
    """Cancel a change and lift its silence."""
    with writing() as session:
        changes.cancel(change_id, session=session)
        audit(session, "change_cancelled", f"change {change_id}")
    error = _sync_changes()  # only now: a cancel that failed to commit keeps its silence (changes.cancel)
    if error:
        return error_page(502, error)
    return see_other(".changes_page")

"""The on-call calendar: who is on call now and next, month and week views per team, the changes a lead
makes (override, swap, absence, cancel) and the iCal feeds' addresses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, render_template, request, url_for
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console import ical
from alertrouter.console.models import Role
from alertrouter.console.web import (
    _,
    audit,
    bp,
    error_page,
    name_of,
    refuse_patient_text,
    see_other,
    viewer,
)
from alertrouter.errors import ApiError
from alertrouter.msg import T
from alertrouter.policy import rota_edit
from alertrouter.policy.rota import Segment, active_changes, plan, segments
from alertrouter.state import current_state, writing

VIEWS = ("month", "week")


def _local_day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return default


def _range(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last local day shown: a Monday-to-Sunday week, or the weeks covering a month."""
    if view == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    start = first - dt.timedelta(days=first.weekday())
    last = nxt - dt.timedelta(days=1)
    return start, last + dt.timedelta(days=6 - last.weekday())


def _days(segs: list[Segment], first: dt.date, last: dt.date) -> list[tuple[dt.date, list[Segment]]]:
    """Return each local day with the stretches that touch it."""
    tz = current_state().router.inventory.tz
    out = []
    day = first
    while day <= last:
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        end = start + dt.timedelta(days=1)
        out.append((day, [s for s in segs if s.start < end and s.end > start]))
        day += dt.timedelta(days=1)
    return out


@bp.get("/oncall")
def oncall_page() -> str:
    """Show who is on call now and next for every team, and one team's month or week."""
    return _oncall(request.args)


def _oncall(args: Any) -> str:
    state = current_state()
    router, now = state.router, state.now()
    tz = router.inventory.tz
    view = args.get("view", "week")
    view = view if view in VIEWS else "week"
    day = _local_day(args.get("date"), now.astimezone(tz).date())
    team_id = args.get("team", "")
    if team_id not in router.inventory.teams:
        mine = rota_edit.teams_of(router, viewer().username)
        team_id = mine[0] if mine else next(iter(router.inventory.teams))
    first, last = _range(view, day)
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    with state.sessions() as session:
        policy = plan(router, session=session)
        changes = [c for c in active_changes(session=session, since=now) if c.team in (None, team_id)]
    rows = []
    for tid, team in router.inventory.teams.items():
        ahead = segments(router.inventory, policy, tid, now, now + dt.timedelta(days=15))
        rows.append((tid, team, ahead[0] if ahead else None, ahead[1] if len(ahead) > 1 else None))
    segs = segments(router.inventory, policy, team_id, start, end)
    step = dt.timedelta(days=7 if view == "week" else 31)
    return render_template(
        "console/oncall.html",
        rows=rows,
        now=now,
        view=view,
        team_id=team_id,
        team=router.inventory.teams[team_id],
        days=_days(segs, first, last),
        segments=segs,
        month=day.month,
        prev_day=(day - step).isoformat(),
        next_day=(day + step).isoformat(),
        changes=changes,
        may_edit=rota_edit.may_edit(router, viewer().username, viewer().can(Role.admin), team_id),
        feeds=_feeds(team_id),
        args=args,
        posted=request.view_args.get("action") if request.method == "POST" and request.view_args else None,
        who=_who,
    )


def _who(person: str | None) -> str:
    """Name a person in the page's language; "nobody" for a gap."""
    if person is None:
        return _("Nobody")
    people = {m.id: m for t in current_state().router.inventory.teams.values() for m in t.members}
    return name_of(people[person].name, person) if person in people else person


def _feeds(team_id: str) -> dict[str, str]:
    """Return the iCal feed addresses shown on the page: the team's and the viewer's own."""
    router = current_state().router
    base = router.settings.file.console_url.rstrip("/") or request.host_url.rstrip("/")
    feeds = {"team": base + url_for("ical.feed", token=ical.token(("team", team_id)))}
    if rota_edit.teams_of(router, viewer().username):
        feeds["me"] = base + url_for("ical.feed", token=ical.token(("person", viewer().username)))
    return feeds


def _when(form: Any, name: str) -> dt.datetime:
    tz = current_state().router.inventory.tz
    try:
        return dt.datetime.fromisoformat(form.get(name, "")).replace(tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        raise ApiError(400, _("give a date and time") + f": {name}") from None


@bp.post("/oncall/<team_id>/<action>")
def oncall_change(team_id: str, action: str) -> HttpResponse | Response:
    """Let a team's lead (or an admin) add an override, a swap or an absence, or cancel one; audit it."""
    state = current_state()
    router, now, me, form = state.router, state.now(), viewer().username, request.form
    if not rota_edit.may_edit(router, me, viewer().can(Role.admin), team_id):
        return error_page(403, _("Only the team's lead or an admin changes its on-call plan."))
    shown = {"team": team_id, "view": form.get("view", "week"), "date": form.get("date", "")}
    refused = refuse_patient_text(("reason",), lambda: _oncall(shown))
    if refused is not None:
        return refused
    reason = form.get("reason", "").strip()[:500]
    try:
        with writing() as session:
            if action == "override":
                person = form.get("person") or None
                start, end = _when(form, "start"), _when(form, "end")
                change = rota_edit.add_override(
                    router, session=session, team=team_id, person=person, start=start, end=end,
                    reason=reason, author=me, now=now,
                )  # fmt: skip
                audit(session, "oncall_override", f"team {team_id}", change=change.id, person=person,
                      start=start.isoformat(), end=end.isoformat())  # fmt: skip
            elif action == "swap":
                made = rota_edit.swap(
                    router, session=session, team=team_id, first=_when(form, "first"),
                    second=_when(form, "second"), reason=reason, author=me, now=now,
                )  # fmt: skip
                audit(session, "oncall_swap", f"team {team_id}", changes=[c.id for c in made],
                      people=[c.person for c in made])  # fmt: skip
            elif action == "absence":
                person = form.get("person", "")
                if team_id not in rota_edit.teams_of(router, person):
                    raise ApiError(
                        400, T("{person} is not on team {team}", person=repr(person), team=team_id)
                    )
                start, end = _when(form, "start"), _when(form, "end")
                change = rota_edit.add_absence(
                    router, session=session, person=person, start=start, end=end, reason=reason,
                    author=me, now=now,
                )  # fmt: skip
                audit(session, "oncall_absence", f"person {person}", change=change.id,
                      start=start.isoformat(), end=end.isoformat())  # fmt: skip
            elif action == "cancel":
                change_id = int(form.get("change", "0") or 0)
                cancelled = rota_edit.cancel(change_id, session=session, by=me, now=now)
                if cancelled.team not in (None, team_id):
                    raise ApiError(403, _("Only the team's lead or an admin changes its on-call plan."))
                audit(session, "oncall_cancel", f"team {team_id}", change=change_id, kind=cancelled.kind)
            else:
                return error_page(404, _("Not found."))
    except (ApiError, ValueError) as exc:
        return error_page(getattr(exc, "status", 400), getattr(exc, "reason", str(exc)))
    return see_other(".oncall_page", team=team_id, view=form.get("view", "week"), date=form.get("date", ""))

"""Statistics, CSV export, the weekly report and the shift hand-over."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response, current_app, render_template, request

from alertrouter import incidents as svc
from alertrouter.console import changes, stats
from alertrouter.console.svg import bars
from alertrouter.console.views_ops import alertmanager
from alertrouter.console.web import _, bp, name_of
from alertrouter.models import OPEN
from alertrouter.state import current_state


def _hours() -> tuple[dt.time, dt.time]:
    start, end = current_app.config.get("CONSOLE_BUSINESS_HOURS", ("08:00", "18:00"))
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def _today() -> dt.date:
    state = current_state()
    return state.now().astimezone(state.router.inventory.tz).date()


def calendar_week(day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the Monday and the Sunday of a day's week."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _period(week: bool = False) -> tuple[dt.datetime, dt.datetime]:
    """Read from/to (local dates, to inclusive) from the query; by default the last 7 days, or with `week`
    this calendar week, Monday to Sunday in the hospital's time zone."""
    tz = current_state().router.inventory.tz
    today = _today()

    def day(name: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    monday, sunday = calendar_week(today)
    last = day("to", sunday if week else today)
    first = day("from", monday if week and "to" not in request.args else last - dt.timedelta(days=6))
    first = min(first, last)
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _report(week: bool = False) -> stats.Report:
    start, end = _period(week)
    with current_state().sessions() as session:
        return stats.compute(
            current_state().router,
            session=session,
            start=start,
            end=end,
            hours=_hours(),
            now=current_state().now(),
        )


def _team(team_id: str) -> str:
    team = current_state().router.inventory.teams.get(team_id)
    return name_of(team.name, team_id) if team else team_id


def _charts(report: stats.Report) -> dict[str, object]:
    return {
        "chart_mttr_team": bars(
            [(_team(k), round((t.mean("res", None) or 0) / 60, 1)) for k, t in report.by["team"].items()],
            unit=" min",
            title=_("MTTR"),
        ),
        "chart_top_alerts": bars(
            [(k, float(v)) for k, v in report.top_alerts], title=_("Top recurring faults")
        ),
        "chart_causes": bars([(_(k), float(v)) for k, v in report.causes], title=_("Root causes")),
    }


@bp.get("/stats")
def stats_page() -> str:
    """Show the statistics for a period."""
    report = _report()
    return render_template(
        "console/stats.html", r=report, minutes=stats.minutes, dims=stats.DIMENSIONS, **_charts(report)
    )


@bp.get("/stats.csv")
def stats_csv() -> Response:
    """Export the statistics table as CSV."""
    out = io.StringIO()
    csv.writer(out).writerows(stats.csv_rows(_report()))
    start, end = _period()
    name = f"hospmon-stats-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so spreadsheet programs read the Chinese names as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/report")
def weekly_report() -> str:
    """Show the weekly report (this calendar week unless from/to say), laid out to print to PDF."""
    report = _report(week=True)
    monday, sunday = calendar_week(_today())
    weeks = {
        "This week": (monday, sunday),
        "Last week": (monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)),
    }
    return render_template(
        "console/report.html",
        r=report,
        minutes=stats.minutes,
        dims=stats.DIMENSIONS,
        weeks=weeks,
        **_charts(report),
    )


@bp.get("/handover")
def handover() -> str:
    """Summarise for the next shift: open incidents, active silences, pending changes."""
    state = current_state()
    now = state.now()
    am = alertmanager()
    silences, silence_error = [], ""
    if am is not None:
        try:
            silences = am.silences()
        except OSError as exc:
            silence_error = str(exc)
    with state.sessions() as session:
        open_incidents = svc.list_incidents(svc.IncidentFilter(status=list(OPEN), limit=500), session=session)
        pending = [
            c
            for c in changes.list_changes(session=session)
            if c.status == "planned" and changes.window_at(c, now) is not None
        ]
        return render_template(
            "console/handover.html",
            incidents=open_incidents,
            silences=silences,
            silence_error=silence_error,
            pending=pending,
            now=now,
            window_at=changes.window_at,
        )

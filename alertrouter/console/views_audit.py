"""The audit log page (filters, paging) and its export for an accreditation review; admins only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlencode

from flask import Response, render_template, request, stream_with_context

from alertrouter.console import audit as audit_log
from alertrouter.console.models import Role
from alertrouter.console.web import _, audit, bp, needs
from alertrouter.errors import ApiError
from alertrouter.state import current_state, writing

PAGE = 100
FORMATS = {"csv": ("text/csv", audit_log.csv_lines), "jsonl": ("application/jsonl", audit_log.jsonl_lines)}


def _day(name: str, *, required: bool) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        if required:
            raise ApiError(400, f"{name}: {_('give a date (YYYY-MM-DD)')}")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: {_('give a date (YYYY-MM-DD)')}") from None


def _filter(*, dates_required: bool) -> audit_log.AuditFilter:
    """Read the filter from the query: actor, action, via, and from/to as local dates (to inclusive)."""
    tz = current_state().router.inventory.tz
    first, last = _day("from", required=dates_required), _day("to", required=dates_required)
    if first and last and last < first:
        raise ApiError(400, _("The end date is before the start date."))
    via = request.args.get("via") or None
    if via is not None and via not in audit_log.VIAS:
        raise ApiError(400, f"via: {', '.join(audit_log.VIAS)}")

    def start_of(day: dt.date | None) -> dt.datetime | None:
        return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)

    return audit_log.AuditFilter(
        actor=request.args.get("actor", "").strip()[:64] or None,
        action=request.args.get("action", "").strip()[:64] or None,
        via=via,
        since=start_of(first),
        until=start_of(last + dt.timedelta(days=1)) if last else None,
    )


@bp.get("/audit")
@needs(Role.admin)
def audit_view() -> str:
    """Show audit entries, newest first, filtered by who, what, through what and when."""
    flt = _filter(dates_required=False)
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    with current_state().sessions() as session:
        entries = audit_log.recent(session=session, flt=flt, limit=PAGE + 1, offset=(number - 1) * PAGE)
        return render_template(
            "console/audit.html",
            entries=entries[:PAGE],
            more=len(entries) > PAGE,
            page=number,
            actions=audit_log.actions(session=session),
            vias=audit_log.VIAS,
            args=request.args,
            query="".join(f"{urlencode({k: v})}&" for k, v in request.args.items() if k != "page"),
        )


@bp.get("/audit/export")
@needs(Role.admin)
def audit_export() -> Response:
    """Export the entries of a date range as CSV or JSON Lines, oldest first; the export is audited too."""
    kind = request.args.get("format", "csv")
    if kind not in FORMATS:
        raise ApiError(400, f"format: {', '.join(FORMATS)}")
    flt = _filter(dates_required=True)
    first, last = request.args["from"], request.args["to"]
    with writing() as session:
        audit(
            session,
            "audit_exported",
            f"{first}..{last}",
            format=kind,
            **{k: v for k, v in request.args.items() if k in ("actor", "action", "via")},
        )
    state = current_state()
    tz = state.router.inventory.tz
    mimetype, write = FORMATS[kind]

    def body() -> Iterator[str]:
        with state.sessions() as session:
            yield from write(audit_log.record(e, tz) for e in audit_log.stream(flt, session=session))

    name = f"hospmon-audit-{first}-{last}.{kind}"
    return Response(
        stream_with_context(body()),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

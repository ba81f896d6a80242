"""The pages behind the links in a page: acknowledge, resolve or look, on a phone, without logging in.

A GET only shows what the link would do (mail scanners and chat previews open links too); the button posts,
with a CSRF token from the browser's session cookie, and the post uses the link up.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter import incidents as svc
from alertrouter import links
from alertrouter.console import audit as audit_log
from alertrouter.console.i18n import current_lang
from alertrouter.console.models import Cause
from alertrouter.console.resolutions import resolve_with_cause
from alertrouter.console.views_incidents import problem_rule
from alertrouter.console.web import _, _context, _headers, check_csrf, refuse_patient_text
from alertrouter.console.wording import reason_text
from alertrouter.errors import ApiError
from alertrouter.msg import N_
from alertrouter.state import current_state, writing

bp = Blueprint("links", __name__, url_prefix="/a")
bp.context_processor(_context)
bp.after_request(_headers)


def _refused(exc: links.Refused | ApiError) -> Response:
    reason = _(exc.reason) if isinstance(exc, links.Refused) else reason_text(exc.reason, current_lang())
    html = render_template("console/link.html", refused=reason, status=exc.status, me=None)
    return Response(html, status=exc.status)


@bp.get("/<code>")
def show(code: str) -> Response | str:
    """Show the incident and the one thing this link does."""
    state = current_state()
    with state.sessions() as session:
        try:
            valid = links.check(state.router, code, session=session, now=state.now())
        except links.Refused as exc:
            return _refused(exc)
        inc = valid.incident
        return render_template(
            "console/link.html",
            link=valid.link,
            inc=inc,
            code=code,
            causes=list(Cause),
            timeline=svc.timeline_of(inc.id, session=session) if valid.link.action == "open" else [],
            me=None,
        )


@bp.post("/<code>")
def act(code: str) -> Response | HttpResponse:
    """Use the link: acknowledge or resolve as the person it was sent to; audit it."""
    check_csrf()
    refused = refuse_patient_text(("fix",), lambda: show(code))
    if refused is not None:
        return refused
    state = current_state()
    now, form = state.now(), request.form
    try:
        with writing() as session:
            valid = links.use(state.router, code, session=session, now=now)
            link, inc = valid.link, valid.incident
            if link.action == links.Action.acknowledge:
                svc.acknowledge(inc.id, session=session, by=link.person, now=now)
            elif link.action == links.Action.resolve:
                fix, cause = form.get("fix", "").strip()[:10_000], form.get("cause", "unknown")
                if cause not in Cause.__members__:
                    raise ApiError(400, _("Root cause"))
                if fix:
                    resolve_with_cause(
                        inc.id,
                        session=session,
                        by=link.person,
                        cause=Cause(cause),
                        fix=fix,
                        minutes=0,
                        to_kb=False,
                        now=now,
                        rule=problem_rule(),
                    )
                else:
                    svc.resolve(inc.id, session=session, by=link.person, note="", now=now)
            else:
                raise links.Refused(405, N_("This link only shows the incident."))
            audit_log.audit(
                link.action,
                session=session,
                actor=link.person,
                at=now,
                target=f"incident {inc.id}",
                address=request.remote_addr or "",
                detail={"channel": link.channel},
                via="link",
            )
    except (links.Refused, ApiError) as exc:
        return _refused(exc)
    return redirect(url_for("links.done", code=code), code=303)


@bp.get("/<code>/done")
def done(code: str) -> Response | HttpResponse | str:
    """Show the incident after the link acted: its status and timeline, who did what."""
    state = current_state()
    with state.sessions() as session:
        try:
            links.check(state.router, code, session=session, now=state.now())
        except links.Refused as exc:
            if exc.link is None or exc.link.used_at is None:
                return _refused(exc)
            link = exc.link
        else:
            return redirect(url_for("links.show", code=code), code=303)
        inc = svc.get_incident_or_raise(link.incident_id, session=session)
        return render_template(
            "console/link.html",
            link=link,
            inc=inc,
            used=True,
            timeline=svc.timeline_of(inc.id, session=session),
            me=None,
        )

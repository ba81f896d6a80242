"""The ward status page: each department's workflows working, slow or down, in plain words, and what to do.

Open without a login from the hospital's clinical networks (``wards.status_networks``), or with the shared
read token (``/status?token=...``, kept in a cookie); read-only; refreshes itself every minute.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress

from flask import Blueprint, Response, g, render_template, request
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console.i18n import LANGS
from alertrouter.console.web import _, _context, _headers, name_of
from alertrouter.context import Router
from alertrouter.state import current_state
from alertrouter.wards.impact import patient_impact
from alertrouter.wards.runs import runs
from alertrouter.wards.status import ServiceState, State, service_states

bp = Blueprint("status", __name__, url_prefix="/status")
bp.context_processor(_context)
bp.after_request(_headers)
COOKIE = "hospmon_status"


@bp.before_request
def _language() -> None:
    """Speak the router's language to the wards (``?lang=en`` or ``zh`` asks for the other)."""
    asked = request.args.get("lang")
    g.console_user_lang = asked if asked in LANGS else current_state().router.settings.file.language


def _allowed(router: Router) -> bool:
    cfg, token = router.settings.file.wards, router.settings.status_token
    given = request.args.get("token") or request.cookies.get(COOKIE, "")
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in cfg.status_networks)


def _rows(router: Router, states: dict[str, ServiceState]) -> list[tuple[str, list[tuple[str, State, str]]]]:
    """Return each department with its workflows and their states, most critical department first."""
    inv = router.inventory
    rank = {"critical": 0, "high": 1, "normal": 2, "low": 3}
    rows = []
    for dept in sorted(inv.departments.values(), key=lambda d: rank.get(d.criticality.value, 9)):
        flows = [
            (name_of(router.workflow_names.get(wf), wf), states[svc.id].state, svc.id)
            for svc in inv.services.values()
            if dept.id in svc.departments
            for wf in svc.workflows
        ]
        if flows:
            rows.append((name_of(dept.name, dept.id), flows))
    return rows


@bp.get("")
def status_page() -> Response | HttpResponse | str:
    """Show the wards how the systems they work with are doing, and the playbooks in force."""
    state = current_state()
    router, now = state.router, state.now()
    if not _allowed(router):
        html = render_template(
            "console/error.html", status=403, message=_("Open this page from the hospital network.")
        )
        return Response(html, status=403)
    recent = now - dt.timedelta(hours=router.settings.file.wards.recovered_hours)
    with state.sessions() as session:
        states = service_states(router, session=session)
        found = runs(session=session, since=recent)
    active = [
        (r, router.playbooks[r.service])
        for r in found
        if r.ended_at is None and r.service in router.playbooks
    ]
    ended = [
        (r, router.playbooks[r.service])
        for r in found
        if r.ended_at is not None and r.service in router.playbooks
    ]
    impacts = {
        r.service: patient_impact(router, router.inventory.services[r.service].departments, [r.service])
        for r, _book in active
    }
    resp = Response(
        render_template(
            "console/status.html",
            now=now,
            rows=_rows(router, states),
            active=active,
            ended=ended,
            impacts=impacts,
            services=router.inventory.services,
            me=None,
        )
    )
    if request.args.get("token") and router.settings.status_token:
        resp.set_cookie(COOKIE, request.args["token"], httponly=True, samesite="Lax", path="/status",
                        max_age=365 * 86400)  # fmt: skip
    return resp

"""The ward status page: each department's workflows working, slow or down, in plain words, and what to do.

Open without a login from the hospital's clinical networks (``wards.status_networks``), or with the shared
read token of ``wards.status_token_file``: typed once into the page's sign-in form, or sent by a ward display
as ``Authorization: Bearer``. A sign-in leaves a signed grant in a cookie, never the token: it lasts
``wards.status_sign_in_hours`` and dies when the token changes. Wrong tokens are counted per address in the
store (as console logins are), typed or sent in the header alike, so guessing stops at MAX_SIGN_IN_FAILURES
across workers and replicas. A token in the link (``?token=``) is refused, never used: links end up in proxy
logs and browser history. Read-only; refreshes itself every minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers.response import Response as HttpResponse

from alertrouter.console.i18n import LANGS
from alertrouter.console.users import FAILURE_WINDOW, recent_failures, record_failure
from alertrouter.console.web import _, _context, _headers, check_csrf, name_of, secure_cookies
from alertrouter.context import Router
from alertrouter.keys import serializer
from alertrouter.state import current_state, writing
from alertrouter.wards.impact import patient_impact
from alertrouter.wards.runs import runs
from alertrouter.wards.status import ServiceState, State, service_states

bp = Blueprint("status", __name__, url_prefix="/status")
bp.context_processor(_context)
bp.after_request(_headers)
COOKIE = "hospmon_status"
MAX_SIGN_IN_FAILURES = 10
"""Wrong tokens one address may type in FAILURE_WINDOW (15 minutes) before it must wait."""


@bp.before_request
def _language() -> None:
    """Speak the router's language to the wards (``?lang=en`` or ``zh`` asks for the other)."""
    asked = request.args.get("lang")
    g.console_user_lang = asked if asked in LANGS else current_state().router.settings.file.language


def _token_matches(given: str, token: str | None) -> bool:
    return bool(token and given) and hmac.compare_digest(given.encode(), (token or "").encode())


def _grants(token: str) -> URLSafeTimedSerializer:
    # The token's digest goes into the salt, not the cookie: a new token turns every grant's signature wrong.
    return serializer(current_app, "status-grant-" + hashlib.sha256(token.encode()).hexdigest())


def _granted(router: Router, grant: str, now: dt.datetime) -> bool:
    """Tell whether a cookie's grant was signed for the current token within the sign-in lifetime."""
    if not (grant and router.settings.status_token):
        return False
    try:
        issued = _grants(router.settings.status_token).loads(grant)
    except BadData:  # forged, signed for another token, or a raw token as cookies held before
        return False
    hours = router.settings.file.wards.status_sign_in_hours
    return isinstance(issued, int) and now.timestamp() - issued < hours * 3600


def _on_clinical_network(router: Router) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in router.settings.file.wards.status_networks
    )


def _gate(router: Router, now: dt.datetime) -> Response | None:
    """Return what keeps this request from the page (the form, or a wait), or None when nothing does."""
    token = router.settings.status_token
    scheme, _sep, bearer = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer":
        # A display's header is a guess as much as the form's: one count per address covers both.
        refused = _attempt(bearer.strip(), token, now)
        if refused is None:
            return None
        if refused == "too_many_tries":
            return _wait(router)
    if _granted(router, request.cookies.get(COOKIE, ""), now) or _on_clinical_network(router):
        return None
    lapsed = COOKIE in request.cookies and token is not None
    form = _sign_in(router, 403, _("Your sign-in has ended; type the token again.") if lapsed else "")
    if lapsed:  # expired, from before the token changed, or a raw token as older versions kept
        form.delete_cookie(COOKIE, path="/status", secure=secure_cookies(), httponly=True, samesite="Lax")
    return form


def _sign_in(router: Router, status: int, message: str) -> Response:
    """Answer with the sign-in form where a token is configured, else with the network notice."""
    if not router.settings.status_token:
        message = message or _("Open this page from the hospital network.")
        return Response(render_template("console/error.html", status=status, message=message), status=status)
    html = render_template("console/status_sign_in.html", message=message, me=None)
    return Response(html, status=status)


def _refused(reason: str) -> None:
    current_state().counters.status_sign_in_refused.labels(reason).inc()


def _attempt(given: str, token: str | None, now: dt.datetime) -> str | None:
    """Check a typed or sent token, MAX_SIGN_IN_FAILURES wrong per address: None if right, else why not."""
    key = f"status:{request.remote_addr or ''}"[:200]
    with writing() as session:
        # Counted before the token is compared, so the right token after a run of guesses waits too.
        if recent_failures(key, session=session, now=now) >= MAX_SIGN_IN_FAILURES:
            reason = "too_many_tries"
        elif _token_matches(given, token):
            return None
        else:
            record_failure([key], session=session, now=now)
            reason = "wrong_token"
    _refused(reason)
    return reason


def _wait(router: Router) -> Response:
    wait = _sign_in(router, 429, _("Too many wrong tokens from this computer; try again in 15 minutes."))
    wait.headers["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
    return wait


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> Response:
    _refused("expired_form")
    return _sign_in(current_state().router, 400, _("The form has expired; reload the page and try again."))


@bp.post("")
def sign_in() -> Response | HttpResponse:
    """Check the typed read token (at most MAX_SIGN_IN_FAILURES wrong per address) and grant this browser."""
    check_csrf()
    state = current_state()
    router, now, token = state.router, state.now(), state.router.settings.status_token
    refused = _attempt(request.form.get("token", "").strip(), token, now)
    if refused == "too_many_tries":
        return _wait(router)
    if refused is not None or token is None:
        return _sign_in(router, 401, _("That is not the status page's token."))
    hours = router.settings.file.wards.status_sign_in_hours
    done = redirect(url_for(".status_page", lang=request.args.get("lang")), code=303)
    done.set_cookie(COOKIE, _grants(token).dumps(int(now.timestamp())), httponly=True, samesite="Lax",
                    path="/status", secure=secure_cookies(), max_age=int(hours * 3600))  # fmt: skip
    return done


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
    if "token" in request.args:
        # Never used, never echoed: a token in a link is already in a proxy log and the browser's history.
        message = _("Tokens in links are not accepted: open /status without ?token= and type the token here.")
        return _sign_in(router, 400, message)
    refused = _gate(router, now)
    if refused is not None:
        return refused
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
    return Response(
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
